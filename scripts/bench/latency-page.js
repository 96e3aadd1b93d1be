// The browser half of `npm run bench:latency` (scripts/bench-latency.mjs serves it with the built
// script bundle). It runs <heygen-avatar> against the offline world with Chromium's looping fake
// microphone and records, per user turn, when things happened, all as wall-clock ms
// (performance.timeOrigin + performance.now()):
//   eos          end of the user's speech: the end of the last loud 20 ms frame before ≥ 300 ms of
//                silence, from an AnalyserNode on a clone of the very microphone track the element
//                captures (Chromium's fake microphone plays its file anew for every getUserMedia,
//                so a stream of our own would run out of step with the element's)
//   turnAt       heygen-avatar:turn
//   firstDeltaAt the first heygen-avatar:reply-delta
//   sentenceAt   the reply-delta after which SentenceChunker (the element's own) has a sentence
//   talkingAt    heygen-avatar:talking {talking: true} (LiveKit data `avatar_start_talking`)
//   avatarOnsets the first loud 20 ms frame of each burst of the element's <audio> track (which the
//                element's own <audio> plays, so Chromium feeds it to Web Audio)
//   taskFetchAt  when the page started the fetch() of the first `streaming.task` (Resource Timing)
//   metrics      the element's own heygen-avatar:metrics event for the turn
// The node side adds the HeyGen stand-in's `receivedAt` of the first `streaming.task`.
import '/dist/heygen-avatar.js';
import { SentenceChunker } from '/dist/npm/conversation/sentences.js';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const MIC_THRESHOLD_DB = -45;
const AVATAR_THRESHOLD_DB = -50;
/** Silence that ends an utterance (user speech), or separates avatar speech bursts. */
const MIC_GAP_MS = 300;
const AVATAR_GAP_MS = 200;
const POLL_MS = 10;
const FRAME_S = 0.02;

/**
 * Loud stretches of a MediaStream: polls an AnalyserNode every 10 ms and cuts the newest samples
 * into 20 ms frames counted back from the poll time, so a late timer does not shift the stamps.
 * `utterances` are {start, end, firstLoudEnd}: start/end of the first/last loud frame, merged
 * while the quiet between loud frames stays under `gapMs`.
 */
class EnergyDetector {
  utterances = [];
  #analyser;
  #source;
  #buf;
  #frame;
  #frameMs;
  #lastPoll = 0;
  #timer;
  #stream;
  #ownTracks;

  /** `ownTracks`: the stream's tracks are ours to stop. */
  constructor(context, stream, { thresholdDb, gapMs, ownTracks = false }) {
    this.thresholdDb = thresholdDb;
    this.gapMs = gapMs;
    this.#stream = stream;
    this.#ownTracks = ownTracks;
    this.#source = context.createMediaStreamSource(stream);
    this.#analyser = context.createAnalyser();
    this.#analyser.fftSize = 2048;
    this.#source.connect(this.#analyser);
    this.#buf = new Float32Array(this.#analyser.fftSize);
    this.#frame = Math.round(context.sampleRate * FRAME_S);
    this.#frameMs = (this.#frame / context.sampleRate) * 1000;
    this.#timer = setInterval(() => this.#poll(), POLL_MS);
  }

  stop() {
    clearInterval(this.#timer);
    this.#source.disconnect();
    if (this.#ownTracks) for (const track of this.#stream.getTracks()) track.stop();
  }

  #poll() {
    const t = now();
    this.#analyser.getFloatTimeDomainData(this.#buf);
    const buf = this.#buf;
    const frames = [];
    for (let j = 0; (j + 1) * this.#frame <= buf.length; j++) {
      const end = t - j * this.#frameMs;
      if (j > 0 && end <= this.#lastPoll) break;
      let sum = 0;
      for (let i = buf.length - (j + 1) * this.#frame; i < buf.length - j * this.#frame; i++) sum += buf[i] * buf[i];
      frames.push({ end, db: 10 * Math.log10(sum / this.#frame + 1e-12) });
    }
    this.#lastPoll = t;
    for (const f of frames.reverse()) if (f.db > this.thresholdDb) this.#loud(f.end);
  }

  #loud(end) {
    const start = end - this.#frameMs;
    const cur = this.utterances.at(-1);
    if (cur && start - cur.end < this.gapMs) cur.end = Math.max(cur.end, end);
    else this.utterances.push({ start, end, firstLoudEnd: end });
  }
}

/** Every audio stream getUserMedia hands out goes to `onMicrophone` too (the element's capture). */
let onMicrophone = () => undefined;
const realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await realGetUserMedia(constraints);
  if (stream.getAudioTracks().length > 0) onMicrophone(stream);
  return stream;
};

const audioContext = new AudioContext();

/** Start times of every `streaming.task` request the page made (Resource Timing `startTime`). */
const taskFetches = [];
performance.setResourceTimingBufferSize(100_000);
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (new URL(entry.name).pathname.endsWith('/streaming.task')) taskFetches.push(performance.timeOrigin + entry.startTime);
  }
}).observe({ type: 'resource' });

/**
 * The naive baseline `llm`: reads the whole reply from the broker's LLM route, then returns it as
 * one string (so the element sends its tasks only after the last token).
 */
function wholeReplyLlm(getSession) {
  return async ({ text, history, signal }) => {
    const session = getSession();
    const res = await fetch(session.llm.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.sessionKey}`, accept: 'text/event-stream' },
      body: JSON.stringify({ messages: [...history, { role: 'user', content: text }] }),
      signal,
    });
    if (!res.ok) throw new Error(`the LLM route answered HTTP ${res.status}`);
    let reply = '';
    for (const block of (await res.text()).split(/\r?\n\r?\n/)) {
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (!data) continue;
      const event = JSON.parse(data);
      if (event.type === 'delta') reply += event.text;
      else if (event.type === 'error') throw new Error(event.message);
    }
    return reply;
  };
}

/** Mean of Date.now() − our clock over a few ms (Date.now() floors to whole ms; the server's too). */
async function clockOffset() {
  const samples = [];
  const until = performance.now() + 20;
  while (performance.now() < until) {
    samples.push(Date.now() - now());
    await sleep(0);
  }
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

/**
 * One session of one configuration (`streamed`: the element's default LLM route, asked once the
 * turn is confirmed; `baseline`: the whole-reply `llm`, likewise; `preemptive`: the default route
 * with preemptive replies): collects `turns` clean turns (or stops at `maxMs`) and returns every
 * turn seen, and the element's metrics events.
 *
 * The element listens only from a quiet moment of the looping microphone until its turn event
 * (`mute()` / `unmute()`), so each turn is one whole question; after the reply, once the avatar's
 * voice has been heard, `interrupt()` cuts it short and the next quiet moment starts the next turn.
 */
async function runBlock({ mode, turns, tokenEndpoint, maxMs, loopMs, question, expectedReply }) {
  await audioContext.resume();
  const offsetBefore = await clockOffset();
  const el = document.createElement('heygen-avatar');
  el.setAttribute('language', 'en');
  el.setAttribute('no-barge-in', '');
  if (mode !== 'preemptive') el.setAttribute('no-preemptive', '');
  if (mode === 'baseline') {
    let session;
    el.tokenProvider = async (request, signal) => {
      const res = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(request),
        signal,
      });
      if (!res.ok) throw new Error(`the token endpoint answered HTTP ${res.status}`);
      session = await res.json();
      return session;
    };
    el.llm = wholeReplyLlm(() => session);
  } else {
    el.setAttribute('token-endpoint', tokenEndpoint);
  }

  let mic;
  let avatarAudio;
  onMicrophone = (stream) => {
    mic?.stop();
    // A clone: it keeps sounding while the element mutes (disables) its own track.
    mic = new EnergyDetector(audioContext, new MediaStream(stream.getAudioTracks().map((t) => t.clone())), {
      thresholdDb: MIC_THRESHOLD_DB,
      gapMs: MIC_GAP_MS,
      ownTracks: true,
    });
  };
  const errors = [];
  const records = [];
  const metrics = [];
  let current;
  let unmutedAt = Infinity;
  let clean = 0;
  let stopping = false;

  /** Unmutes once the question is over and its next loop is at least 300 ms away. */
  const listenAtNextGap = async () => {
    while (!stopping) {
      const last = mic?.utterances.at(-1);
      const t = now();
      if (last && t - last.end >= MIC_GAP_MS && last.start + loopMs - t >= 300) {
        el.unmute();
        unmutedAt = now();
        return;
      }
      await sleep(POLL_MS);
    }
  };

  const finish = (rec, at) => {
    if (rec.done) return;
    rec.done = true;
    rec.clearedAt = at;
    if (current === rec) current = undefined;
    // The speech the turn came from: the last utterance that began before the turn event.
    const utterance = mic?.utterances.filter((u) => u.start < rec.turnAt).at(-1);
    rec.eos = utterance?.end;
    rec.speechStart = utterance?.start;
    rec.taskFetchAt = rec.sentenceAt === undefined ? undefined : taskFetches.filter((t) => t >= rec.sentenceAt).sort((a, b) => a - b)[0];
    rec.avatarOnsets = (avatarAudio?.utterances ?? []).map((u) => u.firstLoudEnd).filter((t) => t > rec.turnAt - 10_000 && t < at);
    const why = [];
    if (!utterance) why.push('no speech before the turn');
    else if (utterance.end > rec.turnAt) why.push('the turn came while the user was still speaking');
    else if (!(utterance.start > rec.unmutedAt)) why.push('the element did not hear the whole question');
    else if (avatarAudio?.utterances.some((u) => u.start < utterance.end && u.end > utterance.end - AVATAR_GAP_MS)) why.push('the avatar was audible at the end of speech');
    if (!rec.text.toLowerCase().includes(question)) why.push(`heard "${rec.text}"`);
    if (rec.overlapped) why.push('another turn came in');
    if (rec.timedOut) why.push('no reply');
    if (rec.interrupted) why.push('reply interrupted');
    if (rec.replyText !== undefined && rec.replyText !== expectedReply) why.push('unexpected reply');
    if (rec.talkingAt === undefined) why.push('no talking event');
    rec.clean = why.length === 0;
    rec.why = why.join('; ');
    delete rec.chunker;
    records.push(rec);
    if (rec.clean) clean++;
    if (clean < turns) void listenAtNextGap();
  };

  /** After the reply: once the avatar's voice is heard, cut it short (`interrupt()`) for the next turn. */
  const settle = async (rec) => {
    const until = now() + 8_000;
    while (now() < until && !rec.done) {
      const heard = avatarAudio?.utterances.some((u) => u.firstLoudEnd > rec.turnAt);
      if (rec.talkingAt !== undefined && heard) break;
      await sleep(20);
    }
    if (rec.done) return;
    rec.clearing = true;
    if (el.state === 'speaking') {
      await el.interrupt();
      await sleep(3_000); // the talking:false event normally finishes the turn first
    }
    finish(rec, now());
  };

  const on = (name, fn) => el.addEventListener(`heygen-avatar:${name}`, (e) => fn(e.detail, now()));
  on('turn', (d, at) => {
    el.mute();
    if (current) current.overlapped = true;
    const rec = { mode, turnAt: at, text: d.text, unmutedAt, chunker: new SentenceChunker() };
    unmutedAt = Infinity;
    current = rec;
    setTimeout(() => {
      if (rec.replyAt === undefined && !rec.done) {
        rec.timedOut = true;
        void settle(rec);
      }
    }, 20_000);
  });
  on('reply-delta', (d, at) => {
    const rec = current;
    if (!rec) return;
    rec.firstDeltaAt ??= at;
    rec.lastDeltaAt = at;
    if (rec.sentenceAt === undefined) {
      const [sentence] = rec.chunker.push(d.delta);
      if (sentence !== undefined) {
        rec.sentenceAt = at;
        rec.firstSentence = sentence;
      }
    }
  });
  on('reply', (d, at) => {
    const rec = current;
    if (!rec || rec.replyAt !== undefined) return;
    rec.replyAt = at;
    rec.replyText = d.text;
    rec.interrupted = d.interrupted;
    void settle(rec);
  });
  on('talking', (d, at) => {
    const rec = current;
    if (!rec) return;
    if (d.talking) rec.talkingAt ??= at;
    else if (rec.clearing) finish(rec, at);
  });
  on('error', (d, at) => errors.push({ at, type: d.type, message: d.message }));
  on('metrics', (d) => {
    metrics.push(d);
    if (current && !current.metrics) current.metrics = d;
  });

  document.body.append(el);
  const started = new Promise((resolve) => el.addEventListener('heygen-avatar:session-start', resolve, { once: true }));
  const ended = new Promise((resolve) => el.addEventListener('heygen-avatar:session-end', resolve, { once: true }));
  // start() reads the attributes as of the last render: let the first one happen (see the report).
  await el.updateComplete;
  el.mute();
  const startedAt = now();
  await el.start();
  if (el.state !== 'listening') {
    el.remove();
    throw new Error(`the element did not start (state ${el.state}): ${errors.map((e) => `${e.type}: ${e.message}`).join('; ')}`);
  }
  await started;
  const sessionId = el.sessionId;
  const startMs = now() - startedAt;

  // The avatar's voice: the track livekit-client attached to the element's own <audio>.
  const audioEl = el.shadowRoot.querySelector('audio');
  const attachUntil = now() + 15_000;
  while (!audioEl.srcObject?.getAudioTracks().length && now() < attachUntil) await sleep(20);
  if (audioEl.srcObject?.getAudioTracks().length) {
    avatarAudio = new EnergyDetector(audioContext, new MediaStream(audioEl.srcObject.getAudioTracks()), {
      thresholdDb: AVATAR_THRESHOLD_DB,
      gapMs: AVATAR_GAP_MS,
    });
  }

  const deadline = now() + maxMs;
  void listenAtNextGap();
  while (clean < turns && now() < deadline) await sleep(50);
  stopping = true;
  const audioPlaying = !audioEl.paused;
  await el.stop();
  await ended;
  el.remove();
  mic?.stop();
  avatarAudio?.stop();
  onMicrophone = () => undefined;
  const offsetAfter = await clockOffset();
  if (current && !current.done) records.push({ ...current, chunker: undefined, clean: false, why: 'cut off by the end of the block' });
  return {
    mode,
    sessionId,
    startMs,
    records,
    metrics,
    errors,
    audioAttached: !!avatarAudio,
    audioPlaying,
    clockOffset: (offsetBefore + offsetAfter) / 2,
    clockDrift: offsetAfter - offsetBefore,
  };
}

window.latencyBench = { runBlock };
window.latencyBenchReady = true;
