// The whole loop, as a visitor gets it: the built script bundle in Chromium, the espeak-ng question
// as the fake microphone, the session broker, the offline HeyGen/Deepgram/LLM stand-ins and a real
// LiveKit server. Assertions are on what the page sees and hears, and on what reached the services.
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import '../../dist/heygen-avatar.js';
import type { HeygenAvatar } from '../../src/element/heygen-avatar.js';
import type { LlmTurn } from '../../src/conversation/llm.js';
import { measureAudio } from '../support/media-probe.js';
import { recordMicrophoneTracks } from '../support/microphone-tracks.js';
import { AVATAR_PROVIDERS } from '../support/providers.js';

interface World {
  tokenEndpoint: string;
}
interface TaskRecord {
  sessionId: string;
  text: string;
  receivedAt: number;
}

const QUESTION = 'what is the weather like today';

/** Every track getUserMedia hands out, to check none is left live. */
const handedOut = recordMicrophoneTracks();

function collect(el: HTMLElement, names: string[]) {
  const seen: { name: string; detail: any; at: number }[] = [];
  for (const name of names) el.addEventListener(name, (e) => seen.push({ name, detail: (e as CustomEvent).detail, at: Date.now() }));
  return seen;
}

const ALL_EVENTS = ['state', 'transcript', 'turn', 'reply-delta', 'reply', 'talking', 'session-start', 'session-end', 'error'].map((n) => `heygen-avatar:${n}`);

async function tasksOf(sessionId: string): Promise<TaskRecord[]> {
  const tasks = await executeServerCommand<TaskRecord[], any>('world:tasks');
  return tasks.filter((t) => t.sessionId === sessionId);
}

for (const provider of AVATAR_PROVIDERS) {
  describe(`<heygen-avatar> conversation, end to end (offline world, ${provider})`, function () {
    this.timeout(120_000);
    let world: World;

    before(async () => {
      world = await executeServerCommand<World, any>('world:start', { provider });
    });

    it('start → greeting → the spoken question → LLM → sentences to the avatar in order → audio → stop', async () => {
      const el = await fixture<HeygenAvatar>(html`
        <heygen-avatar token-endpoint=${world.tokenEndpoint} language="en" greeting="Hello! Ask me anything."></heygen-avatar>
      `);
      const events = collect(el, ALL_EVENTS);
      // A widget keeps the host page's console quiet: nothing below a warning (livekit-client logs every
      // step at info); and its storage clean: livekit-client's setLogLevel writes a localStorage key per logger.
      for (const key of Object.keys(localStorage)) if (key.startsWith('loglevel:')) localStorage.removeItem(key);
      const chatter: string[] = [];
      const quiet = { log: console.log, info: console.info, debug: console.debug };
      for (const level of ['log', 'info', 'debug'] as const) console[level] = (...args: unknown[]) => chatter.push(`${level}: ${args.map(String).join(' ')}`);
      // After the first turn, mute: the fake microphone loops the question.
      el.addEventListener('heygen-avatar:turn', () => el.mute(), { once: true });
      const started = oneEvent(el, 'heygen-avatar:session-start');
      await el.start();
      const { detail: start } = await started;
      expect(el.state).to.equal('listening');
      expect(start.sessionId).to.equal(el.sessionId);

      const { detail: turn } = await oneEvent(el, 'heygen-avatar:turn');
      expect(turn.text.toLowerCase().replace(/[.?!]/g, '')).to.equal(QUESTION);
      expect(turn.source).to.equal('voice');
      expect(events.some((e) => e.name === 'heygen-avatar:transcript' && e.detail.final && e.detail.text.toLowerCase().includes('weather'))).to.be.true;

      const { detail: reply } = await oneEvent(el, 'heygen-avatar:reply');
      expect(reply.interrupted).to.be.false;
      expect(reply.text.length).to.be.greaterThan(10);
      const calls = await executeServerCommand<{ messages: { role: string; text: string }[] }[], any>('world:llm-calls');
      expect(calls.at(-1)!.messages.at(-1)!.text.toLowerCase()).to.include('weather like today');

      // LiveAvatar acknowledges no command: the reply is out once sent, and its last sentence reaches
      // the service a moment later (seen in Firefox).
      const spokenReply = reply.text.trim().replace(/\s+/g, ' ');
      await waitUntil(async () => (await tasksOf(el.sessionId!)).slice(1).map((t) => t.text).join(' ') === spokenReply, 'the whole reply reached the avatar service', { timeout: 5000 }).catch(() => undefined);
      const tasks = await tasksOf(el.sessionId!);
      expect(tasks[0].text).to.equal('Hello! Ask me anything.');
      const sentences = tasks.slice(1).map((t) => t.text);
      expect(sentences.length).to.be.at.least(2);
      expect(sentences.join(' ')).to.equal(spokenReply);
      expect(events.filter((e) => e.name === 'heygen-avatar:reply-delta').length).to.be.greaterThan(2);

      // The avatar's voice reaches the page through the element's <audio>.
      const audioEl = el.shadowRoot!.querySelector('audio')!;
      await waitUntil(() => (audioEl.srcObject as MediaStream | null)?.getAudioTracks().length, 'avatar audio attached', { timeout: 10_000 });
      await waitUntil(() => !audioEl.paused, 'the element plays the avatar’s voice', { timeout: 5000 });
      const heard = await measureAudio((audioEl.srcObject as MediaStream).getAudioTracks()[0], 2500);
      expect(heard.peakDb, 'avatar speech energy').to.be.greaterThan(-35);
      await waitUntil(() => events.some((e) => e.name === 'heygen-avatar:talking' && e.detail.talking), 'talking event');
      // The avatar publishes; the visitor's page publishes nothing (its microphone goes to Deepgram only).
      const publishers = await executeServerCommand<{ identity: string; tracks: string[] }[], any>('world:room-publishers');
      const avatarSide = (identity: string) => identity.startsWith('heygen') || identity.startsWith('liveavatar-agent-');
      expect(publishers.filter((p) => avatarSide(p.identity) && p.tracks.length === 2).length, 'the avatar publishes video and audio').to.be.at.least(1);
      const visitors = publishers.filter((p) => !avatarSide(p.identity));
      expect(visitors.length, 'the visitor is in the room').to.be.at.least(1);
      expect(visitors.flatMap((p) => p.tracks), 'tracks the visitor publishes').to.deep.equal([]);
      const captions = el.shadowRoot!.querySelector('[part~="captions"]')!;
      expect(captions.getAttribute('aria-live')).to.equal('polite');
      expect(captions.textContent!.toLowerCase()).to.include('weather');

      const ended = oneEvent(el, 'heygen-avatar:session-end');
      await el.stop();
      expect((await ended).detail.reason).to.equal('stopped');
      expect(el.state).to.equal('ended');
      await waitUntil(async () => (await executeServerCommand<number, any>('world:open-sessions')) === 0, 'no open avatar sessions', { timeout: 10_000 });
      expect(handedOut.length).to.be.greaterThan(0);
      expect(handedOut.filter((t) => t.readyState === 'live').length, 'live microphone tracks').to.equal(0);
      const video = el.shadowRoot!.querySelector('video')!;
      const remote = [...((video.srcObject as MediaStream | null)?.getTracks() ?? []), ...((audioEl.srcObject as MediaStream | null)?.getTracks() ?? [])];
      expect(remote.filter((t) => t.readyState === 'live').length, 'live avatar tracks').to.equal(0);
      expect(events.filter((e) => e.name === 'heygen-avatar:error')).to.deep.equal([]);
      Object.assign(console, quiet);
      expect(chatter, 'console output below warning level').to.deep.equal([]);
      expect(Object.keys(localStorage).filter((key) => key.startsWith('loglevel:')), 'keys the widget left in the page’s localStorage').to.deep.equal([]);
    });

    it('with an llm property streaming an AsyncIterable, the first sentence reaches the avatar before the iterable finishes', async () => {
      const el = await fixture<HeygenAvatar>(html`<heygen-avatar token-endpoint=${world.tokenEndpoint} language="en"></heygen-avatar>`);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let finished = false;
      let seen: LlmTurn | undefined;
      el.llm = async function* (turn) {
        seen = turn;
        yield 'The first sentence ';
        yield 'is ready now. ';
        await gate;
        yield 'The second comes later.';
        finished = true;
      };
      el.addEventListener('heygen-avatar:turn', () => el.mute(), { once: true });
      await el.start();
      await oneEvent(el, 'heygen-avatar:turn');
      await waitUntil(async () => (await tasksOf(el.sessionId!)).length === 1, 'first sentence sent', { timeout: 10_000 });
      expect((await tasksOf(el.sessionId!))[0].text).to.equal('The first sentence is ready now.');
      expect(finished).to.be.false;
      expect(seen!.text.toLowerCase()).to.include('weather');
      expect(seen!.signal.aborted).to.be.false;
      release();
      await oneEvent(el, 'heygen-avatar:reply');
      expect(finished).to.be.true;
      // LiveAvatar acknowledges no command: the reply is out once sent, and reaches the service a moment later.
      await waitUntil(async () => (await tasksOf(el.sessionId!)).length === 2, 'second sentence received', { timeout: 5000 });
      expect((await tasksOf(el.sessionId!)).map((t) => t.text)).to.deep.equal(['The first sentence is ready now.', 'The second comes later.']);
      expect(seen!.history, 'first turn: empty history').to.deep.equal([]);
      await el.stop();
    });

    it('removing the element mid-session closes the session; moving it does not', async () => {
      const el = await fixture<HeygenAvatar>(html`<heygen-avatar token-endpoint=${world.tokenEndpoint} language="en" no-text-input></heygen-avatar>`);
      el.llm = () => 'Fine.';
      el.mute();
      await el.start();
      const id = el.sessionId!;
      const elsewhere = document.createElement('section');
      document.body.append(elsewhere);
      elsewhere.append(el);
      await new Promise((r) => setTimeout(r, 50));
      expect(el.sessionId, 'moved: same session').to.equal(id);
      expect(el.state).to.not.equal('ended');
      expect(await executeServerCommand<number, any>('world:open-sessions')).to.equal(1);
      el.remove();
      await waitUntil(async () => (await executeServerCommand<number, any>('world:open-sessions')) === 0, 'removed: session closed', { timeout: 10_000 });
      elsewhere.remove();
    });

    it('a denied microphone shows the message and one microphone error, and the session goes on in text mode', async () => {
      const el = await fixture<HeygenAvatar>(html`<heygen-avatar token-endpoint=${world.tokenEndpoint} language="en"></heygen-avatar>`);
      el.llm = () => 'Typed questions work too.';
      const errors: any[] = [];
      el.addEventListener('heygen-avatar:error', (e) => errors.push(e.detail));
      // What the browser does when the visitor (or a permissions policy) refuses the microphone.
      const wrapped = navigator.mediaDevices.getUserMedia;
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
      try {
        await el.start();
      } finally {
        navigator.mediaDevices.getUserMedia = wrapped;
      }
      expect(el.state).to.equal('listening');
      expect(errors.length).to.equal(1);
      expect(errors[0].type).to.equal('microphone');
      expect(errors[0].recoverable).to.be.true;
      const notice = el.shadowRoot!.querySelector('[part~="notice"]')!;
      expect(notice.getAttribute('role')).to.equal('alert');
      expect(notice.textContent!.trim()).to.equal('Microphone access was blocked. You can type instead, or allow the microphone and start again.');
      expect(el.shadowRoot!.querySelector('[part~="mute-button"]')!.hasAttribute('disabled')).to.be.true;

      const input = el.shadowRoot!.querySelector<HTMLInputElement>('input[name="message"]')!;
      input.value = 'Can you hear me?';
      const turn = oneEvent(el, 'heygen-avatar:turn');
      el.shadowRoot!.querySelector<HTMLButtonElement>('[part~="text-form"] button')!.click();
      const { detail } = await turn;
      expect(detail).to.deep.equal({ text: 'Can you hear me?', source: 'text' });
      await waitUntil(async () => (await tasksOf(el.sessionId!)).some((t) => t.text === 'Typed questions work too.'), 'typed turn answered', { timeout: 10_000 });
      await el.stop();
    });

    // The 0.1 answer shape only ever existed for HeyGen streaming.
    if (provider === 'heygen-streaming') it('a back end still answering in the 0.1 flat shape works, with one deprecation notice per page', async () => {
      const notices: string[] = [];
      const warn = console.warn;
      console.warn = (...args: unknown[]) => {
        const text = args.map(String).join(' ');
        if (text.includes('deprecated')) notices.push(text);
        else warn(...args);
      };
      try {
        for (const round of [1, 2]) {
          const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en" no-text-input></heygen-avatar>`);
          el.mute();
          // The broker's current answer, turned back into what 0.1 back ends send.
          el.tokenProvider = async (request, signal) => {
            const res = await fetch(world.tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal });
            const { avatar, ...rest } = await res.json();
            expect(avatar.provider).to.equal('heygen-streaming');
            return { ...rest, provider: 'heygen-streaming', heygen: { apiBase: avatar.apiBase, token: avatar.token }, livekit: avatar.livekit };
          };
          await el.start();
          expect(el.state, `round ${round}: live`).to.equal('listening');
          await el.say(`Round ${round}.`);
          expect((await tasksOf(el.sessionId!)).map((t) => t.text)).to.deep.equal([`Round ${round}.`]);
          await el.stop();
          await waitUntil(async () => (await executeServerCommand<number, any>('world:open-sessions')) === 0, 'no open avatar sessions', { timeout: 10_000 });
        }
      } finally {
        console.warn = warn;
      }
      expect(notices.length).to.equal(1);
      expect(notices[0]).to.match(/^heygen-avatar \d+\.\d+\.\d+: the token endpoint answered in the deprecated 0\.1 shape/);
    });
  });
}
