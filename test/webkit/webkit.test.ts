// What Debian's WebKitGTK (Safari's engine family) runs of the widget, for real: MiniBrowser with
// iOS's audio rule on (see web-test-runner.webkit.config.mjs). The engine's facts (no WebRTC), Start
// refused with the capability message before any session is asked for, and iOS's rules: the video
// inline, the avatar's <audio> unlocked by the Start tap, the microphone's AudioContext running
// without a gesture once the page captures. Taps are real clicks through WebDriver.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import '../../dist/npm/element/define.js';
import type { HeygenAvatar } from '../../dist/npm/element/heygen-avatar.js';
import type { Recorded } from '../support/fake-avatar.js';

type MicrophoneModule = typeof import('../../src/capture/microphone.js');

const part = (el: HeygenAvatar, name: string) => el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);

/** A real tap (WebDriver click) on the part `name` of the <heygen-avatar> with id `id`. */
function tap(id: string, name: string): Promise<unknown> {
  return executeServerCommand('webdriver:click', {
    script: `return document.getElementById(${JSON.stringify(id)}).shadowRoot.querySelector('[part~="${name}"]')`,
  });
}

/** Taps Start (the part `name`) of `el` and waits for the start to fail; returns the error events' details. */
async function tapStart(el: HeygenAvatar, name: string): Promise<{ type: string; recoverable: boolean; message: string }[]> {
  const errors: { type: string; recoverable: boolean; message: string }[] = [];
  el.addEventListener('heygen-avatar:error', (e) => errors.push(e.detail));
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    await tap(el.id, name);
    await waitUntil(() => el.state === 'error', 'the start failed', { timeout: 10_000 });
  } finally {
    console.warn = warn;
  }
  return errors;
}

/** Plays a silent MediaStream (as the avatar's voice arrives) in `audio`; resolves with how the browser answered. */
async function playStream(audio: HTMLAudioElement, context: AudioContext): Promise<string> {
  audio.srcObject = context.createMediaStreamDestination().stream;
  const answer = await Promise.race([
    audio.play().then(
      () => 'playing',
      (e: Error) => e.name,
    ),
    new Promise((r) => setTimeout(() => r('pending'), 1000)),
  ]);
  // Refused: the element stays paused. Allowed: it is playing, or waiting for the stream's data.
  return `${answer}, ${audio.paused ? 'paused' : 'not paused'}`;
}

let gumCalls = 0;
const wrapped = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (constraints) => {
  gumCalls++;
  return wrapped(constraints);
};

describe('<heygen-avatar> in WebKitGTK', function () {
  this.timeout(60_000);
  let silent: AudioContext;

  before(() => {
    silent = new AudioContext();
  });

  it('this engine has getUserMedia, AudioWorklet and WebSocket, and no RTCPeerConnection', () => {
    expect(navigator.userAgent).to.match(/AppleWebKit\/.*Safari/).and.not.match(/Chrome|Firefox/);
    expect(typeof RTCPeerConnection, 'RTCPeerConnection').to.equal('undefined');
    expect(typeof navigator.mediaDevices.getUserMedia).to.equal('function');
    expect(typeof AudioWorkletNode).to.equal('function');
    expect(typeof WebSocket).to.equal('function');
  });

  it('iOS’s rule is on: without a gesture or a capture, Web Audio stays suspended and an <audio> is refused', async () => {
    await Promise.race([silent.resume(), new Promise((r) => setTimeout(r, 500))]);
    expect(silent.state).to.equal('suspended');
    expect(await playStream(document.createElement('audio'), silent)).to.equal('NotAllowedError, paused');
  });

  it('Start, tapped: one unsupported error naming WebRTC, said on the stage; no session asked for, no microphone opened', async () => {
    await executeServerCommand('recorder:take');
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar id="tapped" language="en" token-endpoint="/_recorder/session"></heygen-avatar>`);
    const errors = await tapStart(el, 'start-button');
    expect(errors.map((e) => [e.type, e.recoverable])).to.deep.equal([['unsupported', false]]);
    expect(errors[0].message).to.include('WebRTC');
    const stage = part(el, 'error')!;
    expect(stage.hidden).to.be.false;
    expect(stage.textContent!.trim()).to.equal('This browser cannot play the live avatar. Please open this page in a current Chrome, Edge, Firefox or Safari.');
    expect(part(el, 'notice'), 'said once, on the stage').to.be.null;
    const asked = (await executeServerCommand<Recorded[], any>('recorder:take')).filter((r) => r.name === 'session');
    expect(asked, 'session requests').to.deep.equal([]);
    expect(gumCalls, 'getUserMedia calls').to.equal(0);

    // The tap unlocked the element's <audio> for the avatar's voice, which arrives seconds later:
    // after the tap's activation has expired, when only an element played during it may play.
    await waitUntil(() => !navigator.userActivation.isActive, 'the tap’s activation expired', { timeout: 20_000, interval: 250 });
    const untapped = await fixture<HeygenAvatar>(html`<heygen-avatar language="en"></heygen-avatar>`);
    expect(await playStream(untapped.shadowRoot!.querySelector('audio')!, silent), 'an element not tapped').to.equal('NotAllowedError, paused');
    expect(await playStream(el.shadowRoot!.querySelector('audio')!, silent), 'the tapped element').to.match(/^(playing|pending), not paused$/);
  });

  it('the idle placeholder’s start button, tapped, gives the same refusal', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar id="poster" language="en" token-endpoint="/_recorder/session"></heygen-avatar>`);
    const errors = await tapStart(el, 'poster-start');
    expect(errors.map((e) => e.type)).to.deep.equal(['unsupported']);
    expect(part(el, 'poster')!.hidden, 'the placeholder gives way to the message').to.be.true;
  });

  it('the avatar’s video plays inline (playsinline), muted, its voice through the separate <audio>', async () => {
    const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en"></heygen-avatar>`);
    const video = el.shadowRoot!.querySelector('video')!;
    expect(video.hasAttribute('playsinline')).to.be.true;
    expect(video.playsInline).to.be.true;
    expect(video.muted).to.be.true;
    expect(el.shadowRoot!.querySelectorAll('audio').length).to.equal(1);
  });

  it('the microphone’s AudioContext runs without a gesture once the page captures (this engine’s own mock device)', async () => {
    const { startMicrophone } = (await import('/dist/npm/capture/microphone.js' as string)) as MicrophoneModule;
    const player = (globalThis as { fileMicrophone?: { enabled: boolean } }).fileMicrophone!;
    player.enabled = false;
    const levels: number[] = [];
    let frames = 0;
    const mic = await startMicrophone({ frameMs: 20, onFrame: () => frames++, onLevel: (db) => levels.push(db) }).finally(() => {
      player.enabled = true;
    });
    try {
      await waitUntil(() => frames >= 25, 'frames from the microphone', { timeout: 10_000 });
      expect(mic.context.state).to.equal('running');
      expect(mic.stream.getAudioTracks()[0]!.label).to.match(/mock/i);
      expect(Math.max(...levels), 'the mock device’s tone, dBFS').to.be.above(-40);
    } finally {
      await mic.stop();
    }
  });
});
