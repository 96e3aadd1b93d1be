// Barge-in, end to end: the visitor speaks over the avatar and the avatar stops. The built script
// bundle in Chromium, the espeak-ng question looping as the fake microphone, the session broker,
// the offline HeyGen/Deepgram stand-ins and a real LiveKit server. The `llm` property is a slow
// stream that would go on for a minute, so the reply is still being generated (and the avatar still
// talking) when the visitor speaks again.
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import '../../dist/heygen-avatar.js';
import type { HeygenAvatar } from '../../src/element/heygen-avatar.js';
import type { LlmTurn } from '../../src/conversation/llm.js';
import type { SessionResponse } from '../../src/shared/contract.js';
import { AVATAR_PROVIDERS } from '../support/providers.js';

interface World {
  tokenEndpoint: string;
}
interface InterruptRecord {
  sessionId: string;
  receivedAt: number;
}
interface TaskRecord {
  sessionId: string;
  text: string;
  receivedAt: number;
}
interface Seen {
  name: string;
  detail: any;
  /** Date.now() when the page got the event: the clock the stand-ins' `receivedAt` use too. */
  at: number;
}

const QUESTION = 'what is the weather like today';
/** About 10 s of avatar speech: long enough that the visitor's whole question falls inside it. */
const LONG_SENTENCE =
  'The weather today is mostly sunny and warm, with a gentle breeze from the west, a few high clouds in the afternoon, and no rain expected anywhere in the region until late in the evening.';
const SECOND_REPLY = 'Sunny all day.';
/** How often the slow stream yields a chunk after its first sentence. */
const CHUNK_EVERY_MS = 400;

const EVENTS = ['state', 'transcript', 'turn', 'reply', 'talking', 'session-start', 'session-end', 'error'].map((n) => `heygen-avatar:${n}`);

// What the page's audio path did, observed at the browser's own interfaces (not our modules): every
// frame the capture worklet posted to the page, and every binary message sent on a Deepgram
// listen socket, each as a fingerprint of its bytes, in order.
const capturedFrames: string[] = [];
const sentFrames: string[] = [];
function fingerprint(data: ArrayBuffer | ArrayBufferView): string {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return `${bytes.length}:${(h >>> 0).toString(16)}`;
}
const silentFrame = (print: string) => print === fingerprint(new Uint8Array(Number(print.split(':')[0])));
const RealAudioWorkletNode = window.AudioWorkletNode;
window.AudioWorkletNode = class extends RealAudioWorkletNode {
  constructor(context: BaseAudioContext, name: string, options?: AudioWorkletNodeOptions) {
    super(context, name, options);
    if (name !== 'heygen-avatar-capture') return;
    // Added before the element's own handler, so this sees each frame before it is sent on.
    this.port.addEventListener('message', (e) => {
      if (e.data?.type === 'frame') capturedFrames.push(fingerprint(e.data.frame as ArrayBuffer));
    });
  }
};
const RealWebSocket = window.WebSocket;
window.WebSocket = class extends RealWebSocket {
  override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (this.url.includes('/v1/listen') && typeof data !== 'string' && !(data instanceof Blob)) sentFrames.push(fingerprint(data as ArrayBuffer));
    super.send(data);
  }
};

function collect(el: HTMLElement): Seen[] {
  const seen: Seen[] = [];
  for (const name of EVENTS) el.addEventListener(name, (e) => seen.push({ name: name.slice('heygen-avatar:'.length), detail: (e as CustomEvent).detail, at: Date.now() }));
  return seen;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
const plain = (text: string) => text.toLowerCase().replace(/[.?!,]/g, '').trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The `llm` property: the first turn gets a stream that yields one sentence, then one more chunk
 * every CHUNK_EVERY_MS for a minute. It does not watch its signal, so whether it is read after the
 * abort is up to the reader. Later turns get a short string.
 */
function slowLlm() {
  const s = {
    turns: [] as LlmTurn[],
    /** Reads of the stream (`next()` calls that ran its body). */
    pulls: 0,
    /** `pulls` when the signal fired: the last one was in flight. */
    pullsAtAbort: undefined as number | undefined,
    abortedAt: undefined as number | undefined,
    /** When the stream was closed (its `finally` ran). */
    closedAt: undefined as number | undefined,
    signal: undefined as AbortSignal | undefined,
  };
  const llm = (turn: LlmTurn): string | AsyncIterable<string> => {
    s.turns.push(turn);
    if (s.turns.length > 1) return SECOND_REPLY;
    s.signal = turn.signal;
    turn.signal.addEventListener('abort', () => {
      s.abortedAt = Date.now();
      s.pullsAtAbort = s.pulls;
    });
    return (async function* () {
      try {
        s.pulls++;
        yield LONG_SENTENCE;
        for (let i = 0; i < 60_000 / CHUNK_EVERY_MS; i++) {
          s.pulls++;
          await sleep(CHUNK_EVERY_MS);
          yield ' more';
        }
      } finally {
        s.closedAt = Date.now();
      }
    })();
  };
  return { llm, state: s };
}

/**
 * The fake microphone's loop: `mic.wav` (scripts/fixtures.mjs) is silence, the question, silence.
 * Returns the loop's length and where the speech sits in it (seconds), read from the file itself.
 */
async function micLoop(): Promise<{ period: number; speechStart: number; speechEnd: number }> {
  const buf = await (await fetch('/test/.fixtures/mic.wav')).arrayBuffer();
  const view = new DataView(buf);
  const rate = view.getUint32(24, true);
  let offset = 12;
  while (String.fromCharCode(...new Uint8Array(buf, offset, 4)) !== 'data') offset += 8 + view.getUint32(offset + 4, true);
  const samples = new Int16Array(buf, offset + 8, view.getUint32(offset + 4, true) / 2);
  let first = -1;
  let last = -1;
  samples.forEach((v, i) => {
    if (Math.abs(v) > 300) {
      if (first < 0) first = i;
      last = i;
    }
  });
  return { period: samples.length / rate, speechStart: first / rate, speechEnd: last / rate };
}

/** Samples the element's microphone meter (what the visitor sees) every 20 ms. */
function watchMeter(el: HeygenAvatar) {
  const samples: { at: number; level: number }[] = [];
  const timer = setInterval(() => {
    const meter = el.shadowRoot?.querySelector('[part~="meter"]');
    if (meter) samples.push({ at: Date.now(), level: Number(meter.getAttribute('aria-valuenow')) });
  }, 20);
  return {
    stop: () => clearInterval(timer),
    /** When the last speech the meter showed ended (a level, then silence after it). */
    lastSpeechEnd(): number | undefined {
      for (let i = samples.length - 1; i > 0; i--) {
        if (samples[i].level === 0 && samples[i - 1].level > 0) return samples[i - 1].at;
      }
      return undefined;
    },
  };
}

interface Scenario {
  el: HeygenAvatar;
  events: Seen[];
  llm: ReturnType<typeof slowLlm>['state'];
  sessionId: string;
  unmutedAt: number;
  /** The first transcript after the unmute with two or more words: the speech signal. */
  signal: Seen;
}

/**
 * The visitor asks (the first spoken turn, answered by the slow stream), the microphone is muted
 * from that turn until the avatar talks, then unmuted in a pause of the loop, so the next thing the
 * transcriber hears is the whole question again, over the avatar's speech.
 *
 * The microphone is muted before start() and unmuted once the session is up, so no audio is
 * captured before the transcriber exists (see the last test for what that audio does).
 */
async function speakOverTheAvatar(world: World, attrs: { noBargeIn: boolean }): Promise<Scenario> {
  const loop = await micLoop();
  const el = await fixture<HeygenAvatar>(
    attrs.noBargeIn
      ? html`<heygen-avatar token-endpoint=${world.tokenEndpoint} language="en" no-barge-in></heygen-avatar>`
      : html`<heygen-avatar token-endpoint=${world.tokenEndpoint} language="en"></heygen-avatar>`,
  );
  const { llm, state } = slowLlm();
  el.llm = llm;
  const events = collect(el);
  el.mute();
  await el.start();
  const sessionId = el.sessionId!;
  const meter = watchMeter(el);
  el.addEventListener('heygen-avatar:turn', () => el.mute(), { once: true });
  el.unmute();
  // The first turn may be the tail of a question the unmute cut into: the slow stream answers any.
  await waitUntil(() => events.some((e) => e.name === 'turn'), 'the first (spoken) turn', { timeout: 30_000 });
  meter.stop();
  await waitUntil(() => events.some((e) => e.name === 'talking' && e.detail.talking), 'the avatar talks', { timeout: 30_000 });

  // Unmute in a pause of the loop, at least 0.4 s from speech on either side: the fake microphone
  // plays on while muted, and unmuting mid-question would give the transcriber half a question.
  // The meter showed where the last question ended; the file gives the loop's length and pause.
  const speechEnd = meter.lastSpeechEnd();
  expect(speechEnd, 'the meter showed the end of the speech before the first turn').to.be.a('number');
  const periodMs = loop.period * 1000;
  const pauseMs = (loop.period - (loop.speechEnd - loop.speechStart)) * 1000;
  let k = 0;
  while (speechEnd! + k * periodMs + pauseMs - 400 < Date.now() + 50) k++;
  await sleep(Math.max(0, speechEnd! + k * periodMs + 400 - Date.now()));
  expect(events.filter((e) => e.name === 'talking').map((e) => e.detail.talking), 'still talking at the unmute').to.deep.equal([true]);
  expect(events.filter((e) => e.name === 'turn').length, 'one turn so far').to.equal(1);
  const unmutedAt = Date.now();
  el.unmute();

  const isSignal = (e: Seen) => e.name === 'transcript' && e.at >= unmutedAt && words(e.detail.text) >= 2;
  await waitUntil(() => events.some(isSignal), 'two words of new speech', { timeout: 20_000 });
  return { el, events, llm: state, sessionId, unmutedAt, signal: events.find(isSignal)! };
}

async function interruptsOf(sessionId: string): Promise<InterruptRecord[]> {
  return (await executeServerCommand<InterruptRecord[], any>('world:interrupts')).filter((i) => i.sessionId === sessionId);
}

async function tasksOf(sessionId: string): Promise<TaskRecord[]> {
  return (await executeServerCommand<TaskRecord[], any>('world:tasks')).filter((t) => t.sessionId === sessionId);
}

/** Was the avatar talking at `at`, by the talking events the page had received? */
function talkingAt(events: Seen[], at: number): boolean {
  return events.filter((e) => e.name === 'talking' && e.at <= at).at(-1)?.detail.talking === true;
}

for (const provider of AVATAR_PROVIDERS) {
  describe(`<heygen-avatar> barge-in, end to end (offline world, ${provider})`, function () {
    this.timeout(180_000);
    let world: World;

    before(async () => {
      world = await executeServerCommand<World, any>('world:start', { provider });
    });

    it('two words over the avatar: the interrupt reaches the service within 100 ms, the LLM stream aborted and no longer read, then the new turn', async () => {
      const { el, events, llm, sessionId, unmutedAt, signal } = await speakOverTheAvatar(world, { noBargeIn: false });
      expect(talkingAt(events, signal.at), 'the avatar was talking when the visitor spoke').to.be.true;
      // After the new turn the microphone is muted again, so the loop does not start a third turn.
      el.addEventListener('heygen-avatar:turn', () => el.mute(), { once: true });

      await waitUntil(async () => (await interruptsOf(sessionId)).length > 0, 'the interrupt reached the avatar service', { timeout: 10_000 });
      const interrupts = await interruptsOf(sessionId);
      const delay = interrupts[0].receivedAt - signal.at;
      console.log(`barge-in (${provider}): the interrupt reached the avatar service ${delay} ms after the transcript "${signal.detail.text}"`);
      expect(interrupts[0].receivedAt, 'no interrupt before the visitor spoke').to.be.at.least(unmutedAt);
      expect(delay).to.be.at.most(100);

      // The LLM's signal fired (before the transcript event went out), and the reply ended interrupted.
      expect(llm.signal!.aborted).to.be.true;
      expect(llm.abortedAt!).to.be.at.most(signal.at);
      const replies = events.filter((e) => e.name === 'reply');
      expect(replies.length).to.equal(1);
      expect(replies[0].detail.interrupted).to.be.true;
      expect(replies[0].detail.text.startsWith(LONG_SENTENCE)).to.be.true;

      await waitUntil(() => events.some((e) => e.name === 'turn' && e.at > signal.at), 'the new turn', { timeout: 20_000 });
      const turns = events.filter((e) => e.name === 'turn');
      expect(turns.length).to.equal(2);
      expect(plain(turns[1].detail.text)).to.equal(QUESTION);
      expect(turns[1].detail.source).to.equal('voice');
      expect(llm.turns.length).to.equal(2);
      expect(llm.turns[1].history.map((m) => m.role)).to.deep.equal(['user', 'assistant']);

      // Four chunk periods later: nothing was read after the abort beyond the read then in flight,
      // and the stream was closed.
      await sleep(4 * CHUNK_EVERY_MS);
      expect(llm.pulls, 'reads of the LLM stream').to.equal(llm.pullsAtAbort);
      expect(llm.closedAt, 'the stream was closed').to.be.a('number');
      await waitUntil(async () => (await tasksOf(sessionId)).some((t) => t.text === SECOND_REPLY), 'the new reply spoken', { timeout: 10_000 });
      expect((await tasksOf(sessionId)).map((t) => t.text)).to.deep.equal([LONG_SENTENCE, SECOND_REPLY]);
      expect(events.filter((e) => e.name === 'error')).to.deep.equal([]);
      await el.stop();
    });

    it('with no-barge-in, the visitor speaking over the avatar sends no interrupt and leaves the LLM stream running', async () => {
      const { el, events, llm, sessionId, signal } = await speakOverTheAvatar(world, { noBargeIn: true });
      expect(talkingAt(events, signal.at), 'the avatar was talking when the visitor spoke').to.be.true;
      // The visitor's whole question, to its final transcript, is said over the avatar.
      const isFinal = (e: Seen) => e.name === 'transcript' && e.detail.final && e.at >= signal.at;
      await waitUntil(() => events.some(isFinal), 'the final transcript of the question', { timeout: 20_000 });
      const final = events.find(isFinal)!;
      expect(plain(final.detail.text)).to.equal(QUESTION);
      expect(talkingAt(events, final.at), 'the avatar still talking at the end of the question').to.be.true;
      // Strictly before the final transcript event: what its turn does next (in the same task) is
      // not the visitor's speech interrupting.
      expect((await interruptsOf(sessionId)).filter((i) => i.receivedAt < final.at)).to.deep.equal([]);
      expect(llm.abortedAt === undefined || llm.abortedAt >= final.at, `the LLM signal fired ${final.at - llm.abortedAt!} ms before the final transcript`).to.be.true;
      expect(events.filter((e) => e.name === 'reply' && e.at < final.at)).to.deep.equal([]);
      expect(llm.pulls, 'the stream was still being read').to.be.greaterThan(2);
      await el.stop();
    });

    // About the capture path, not the avatar service: once is enough.
    if (provider === AVATAR_PROVIDERS[0]) it('audio captured before the session is ready reaches the transcriber in the order it was captured', async () => {
      // Out of order, the visitor's earlier words reach Deepgram after later ones: a phantom
      // utterance that can barge in on the avatar when nobody is speaking. The session arrives 3 s
      // after the microphone opens, as with a slow token endpoint.
      const el = await fixture<HeygenAvatar>(html`<heygen-avatar language="en" no-text-input></heygen-avatar>`);
      el.llm = () => 'Fine.';
      el.tokenProvider = async (request, signal) => {
        await sleep(3000);
        const res = await fetch(world.tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal });
        return (await res.json()) as SessionResponse;
      };
      capturedFrames.length = 0;
      sentFrames.length = 0;
      await el.start();
      await sleep(1000);
      el.mute();
      await sleep(1000);
      const captured = capturedFrames.slice();
      const sent = sentFrames.slice();
      await el.stop();
      expect(captured.length, 'frames captured in the 4 s').to.be.greaterThan(30);
      expect(captured.some((f) => !silentFrame(f)), 'the microphone heard speech').to.be.true;
      const firstOutOfOrder = sent.findIndex((f, i) => f !== captured[i]);
      const sentFirst = sent.findIndex((f) => f === captured[0]);
      expect(
        firstOutOfOrder,
        `the first frame sent out of capture order (of ${sent.length} sent, ${captured.length} captured; the first captured frame went out as number ${sentFirst})`,
      ).to.equal(-1);
      expect(sent.length).to.equal(captured.length);
    });
  });
}
