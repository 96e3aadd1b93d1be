// One live transcription stream of the Deepgram stand-in: audio in, Results / SpeechStarted /
// UtteranceEnd / Metadata out, in the order of the audio they describe. All times come from the
// samples received, never from the wall clock.
import { createHash } from 'node:crypto';
import type { WebSocket, RawData } from 'ws';
import type { FaultPlan } from '../faults.js';
import { Linear16Decoder, PcmHistory, RECOGNIZER_SAMPLE_RATE, Resampler, toInt16 } from './audio.js';
import {
  CLOSE,
  describeModel,
  type ListenParams,
  type ListenServerMessage,
  type ModelInfo,
  type ResultsMessage,
  type ResultsWord,
} from './protocol.js';
import type { PhraseRecognizer, RecognizedWord } from './recognizer.js';
import { SpeechDetector } from './speech-detector.js';

/** Pauses shorter than this stay inside one speech segment, whatever `endpointing` says. */
const SPEECH_HANGOVER_MS = 200;
/** Audio kept before the detected speech start and after its end, for the recogniser. */
const PRE_ROLL_MS = 150;
const POST_ROLL_MS = 150;
/** Interim results: at most one per this much audio while speech goes on. */
const INTERIM_INTERVAL_MS = 500;
/** Longer speech is finalised in pieces of this length (is_final without speech_final). */
const MAX_SEGMENT_MS = 15_000;

const RATE = RECOGNIZER_SAMPLE_RATE;
const ms = (value: number) => Math.round((value * RATE) / 1000);
const seconds = (samples: number) => samples / RATE;
const roundTime = (value: number) => Math.round(value * 1000) / 1000;

export interface ListenStreamOptions {
  params: ListenParams;
  requestId: string;
  recognizer: PhraseRecognizer;
  faults: FaultPlan;
  idleTimeoutMs: number;
}

interface Segment {
  /** Absolute 16 kHz sample where speech (or the continuation after a Finalize) starts. */
  start: number;
  /** First sample handed to the recogniser (the pre-roll before `start`). */
  from: number;
  lastInterimAt: number;
  interimBusy: boolean;
}

type Recognition = { ok: true; words: RecognizedWord[] } | { ok: false; error: Error };

/** A `/v1/listen` WebSocket after a successful upgrade. It ends itself; `shutdown()` ends it early. */
export class ListenStream {
  readonly #ws: WebSocket;
  readonly #params: ListenParams;
  readonly #requestId: string;
  readonly #recognizer: PhraseRecognizer;
  readonly #faults: FaultPlan;
  readonly #idleTimeoutMs: number;
  readonly #model: { uuid: string; info: ModelInfo };
  readonly #created = new Date().toISOString();
  readonly #sha256 = createHash('sha256');
  readonly #decoder: Linear16Decoder;
  readonly #resampler: Resampler | undefined;
  readonly #detector: SpeechDetector;
  readonly #history = new PcmHistory();
  /** 16 kHz samples received (the stream's audio clock). */
  #timeline = 0;
  /** Where the next Results message starts: finals tile the timeline. */
  #finalizedUntil = 0;
  #segment: Segment | null = null;
  #finalsInFlight = 0;
  /** End (s) of the last word finalised and not yet followed by an UtteranceEnd. */
  #lastWordEnd: number | null = null;
  /** Messages go out through this chain, so recognition can run ahead but results stay in order. */
  #outbox: Promise<void> = Promise.resolve();
  #idleTimer: NodeJS.Timeout | undefined;
  #dropTimer: NodeJS.Timeout | undefined;
  /** CloseStream received: input is ignored while the last results go out. */
  #closing = false;
  /** A stall fault: the stream neither reads nor answers any more. */
  #stalled = false;
  #done = false;

  constructor(ws: WebSocket, options: ListenStreamOptions) {
    this.#ws = ws;
    this.#params = options.params;
    this.#requestId = options.requestId;
    this.#recognizer = options.recognizer;
    this.#faults = options.faults;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#model = describeModel(options.params.model);
    this.#decoder = new Linear16Decoder(options.params.channels);
    this.#resampler = options.params.sampleRate === RATE ? undefined : new Resampler(options.params.sampleRate, RATE);
    const endpointing = options.params.endpointing;
    this.#detector = new SpeechDetector({
      sampleRate: RATE,
      minSilenceMs: endpointing === false ? SPEECH_HANGOVER_MS : Math.max(endpointing, SPEECH_HANGOVER_MS),
    });
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    // ws closes the socket itself after a protocol error (e.g. 1009 for an oversized message).
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.#done = true;
      this.#stopTimers();
    });
    this.#armIdleTimer();
  }

  /** Destroys the socket abruptly (no close frame) after `afterMs`, like a network failure. */
  dropAfter(afterMs: number): void {
    clearTimeout(this.#dropTimer);
    this.#dropTimer = setTimeout(() => {
      this.#done = true;
      this.#stopTimers();
      this.#ws.terminate();
    }, afterMs);
  }

  /** Stops reading and answering, like a hung server; the socket stays open. */
  stall(): void {
    this.#stalled = true;
    this.#stopTimers();
  }

  /** Ends the stream because the server shuts down (close 1001). */
  shutdown(): void {
    this.#close(CLOSE.goingAway);
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#stalled || this.#closing || this.#done) return;
    this.#armIdleTimer();
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary) return this.#onControl(bytes.toString('utf8'));
    // An empty binary frame is upstream's legacy way to close the stream.
    if (!bytes.length) return this.#closeStream();
    const fault = this.#faults.take('/v1/listen', ['drop', 'stall']);
    if (fault?.kind === 'stall') return this.stall();
    if (fault?.kind === 'drop') this.dropAfter(fault.afterMs ?? 0);
    this.#sha256.update(bytes);
    const mono = this.#decoder.decode(bytes);
    this.#ingest(this.#resampler ? this.#resampler.push(mono) : mono);
  }

  #onControl(text: string): void {
    let type: unknown;
    try {
      type = (JSON.parse(text) as { type?: unknown } | null)?.type;
    } catch {
      type = undefined;
    }
    if (type === 'KeepAlive') return;
    if (type === 'Finalize') return this.#finalize();
    if (type === 'CloseStream') return this.#closeStream();
    this.#close(CLOSE.badMessage);
  }

  #ingest(samples: Float32Array): void {
    if (!samples.length) return;
    this.#history.append(toInt16(samples));
    this.#timeline += samples.length;
    for (const event of this.#detector.push(samples)) {
      if (event.type === 'start') this.#speechStarted(event.sample);
      else if (this.#segment) {
        const end = Math.min(event.sample + ms(POST_ROLL_MS), event.detectedAt);
        this.#finishSegment(event.detectedAt, end, { speechFinal: this.#params.endpointing !== false, fromFinalize: false });
      }
    }
    if (this.#segment && this.#timeline - this.#segment.start >= ms(MAX_SEGMENT_MS)) {
      this.#finishSegment(this.#timeline, this.#timeline, { speechFinal: false, fromFinalize: false });
      this.#segment = this.#newSegment(this.#timeline, this.#timeline);
    }
    this.#maybeInterim();
    this.#maybeUtteranceEnd();
    this.#history.discardBefore(Math.min(this.#segment?.from ?? Infinity, this.#timeline - ms(PRE_ROLL_MS)));
  }

  #newSegment(start: number, from: number): Segment {
    return { start, from, lastInterimAt: start, interimBusy: false };
  }

  #speechStarted(sample: number): void {
    this.#segment = this.#newSegment(sample, Math.max(this.#history.start, sample - ms(PRE_ROLL_MS)));
    if (this.#params.vadEvents) {
      this.#enqueue(() => this.#send({ type: 'SpeechStarted', channel: [0, 1], timestamp: roundTime(seconds(sample)) }));
    }
  }

  /** Recognises the current segment's audio up to `audioEnd` into a final covering up to `end`. */
  #finishSegment(end: number, audioEnd: number, flags: { speechFinal: boolean; fromFinalize: boolean }): void {
    const segment = this.#segment;
    if (!segment) return;
    this.#segment = null;
    const start = this.#finalizedUntil;
    this.#finalizedUntil = end;
    const recognition = this.#recognize(segment.from, audioEnd, 'final');
    this.#finalsInFlight++;
    this.#enqueue(async () => {
      const result = await recognition;
      this.#finalsInFlight--;
      if (!result.ok) throw result.error;
      const words = this.#words(result.words, segment.from);
      if (words.length) this.#lastWordEnd = words[words.length - 1].end;
      this.#send(this.#results(start, end, words, { isFinal: true, ...flags }));
      this.#maybeUtteranceEnd();
    });
  }

  #maybeInterim(): void {
    const segment = this.#segment;
    if (!this.#params.interimResults || this.#closing || !segment || segment.interimBusy) return;
    if (this.#timeline - segment.lastInterimAt < ms(INTERIM_INTERVAL_MS)) return;
    segment.lastInterimAt = this.#timeline;
    segment.interimBusy = true;
    const start = this.#finalizedUntil;
    const end = this.#timeline;
    const recognition = this.#recognize(segment.from, end, 'interim');
    void recognition.then(() => (segment.interimBusy = false));
    this.#enqueue(async () => {
      const result = await recognition;
      if (!result.ok) throw result.error;
      const words = this.#words(result.words, segment.from);
      this.#send(this.#results(start, end, words, { isFinal: false, speechFinal: false, fromFinalize: false }));
    });
  }

  /** Sends UtteranceEnd once `utterance_end_ms` of audio has passed with no new words. */
  #maybeUtteranceEnd(): void {
    const gapMs = this.#params.utteranceEndMs;
    const lastWordEnd = this.#lastWordEnd;
    if (gapMs === null || lastWordEnd === null || this.#finalsInFlight > 0) return;
    const deadline = Math.ceil((lastWordEnd + gapMs / 1000) * RATE);
    if (this.#timeline < deadline || (this.#segment && this.#segment.start < deadline)) return;
    this.#lastWordEnd = null;
    this.#enqueue(() => this.#send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: lastWordEnd }));
  }

  #finalize(): void {
    if (this.#segment) {
      this.#finishSegment(this.#timeline, this.#timeline, { speechFinal: false, fromFinalize: true });
      this.#detector.reset();
      return;
    }
    const start = this.#finalizedUntil;
    const end = (this.#finalizedUntil = this.#timeline);
    this.#enqueue(() => this.#send(this.#results(start, end, [], { isFinal: true, speechFinal: false, fromFinalize: true })));
  }

  #closeStream(): void {
    this.#closing = true;
    this.#stopTimers();
    if (this.#resampler) this.#ingest(this.#resampler.flush());
    if (this.#segment) this.#finishSegment(this.#timeline, this.#timeline, { speechFinal: false, fromFinalize: false });
    this.#enqueue(() =>
      this.#send({
        type: 'Metadata',
        transaction_key: 'deprecated',
        request_id: this.#requestId,
        sha256: this.#sha256.digest('hex'),
        created: this.#created,
        duration: this.#decoder.frames / this.#params.sampleRate,
        channels: this.#params.channels,
        models: [this.#model.uuid],
        model_info: { [this.#model.uuid]: this.#model.info },
      }),
    );
    this.#enqueue(() => this.#close(CLOSE.normal));
  }

  #recognize(from: number, to: number, kind: 'final' | 'interim'): Promise<Recognition> {
    return this.#recognizer.recognize(this.#history.slice(from, to), kind, this.#params.language).then(
      (words): Recognition => ({ ok: true, words }),
      (error: Error): Recognition => ({ ok: false, error }),
    );
  }

  #words(recognized: RecognizedWord[], from: number): ResultsWord[] {
    const offset = seconds(from);
    return recognized.map((w) => ({
      word: w.word,
      start: roundTime(offset + w.start),
      end: roundTime(offset + w.end),
      confidence: w.confidence,
      ...(this.#params.punctuate ? { punctuated_word: w.punctuated } : {}),
    }));
  }

  #results(start: number, end: number, words: ResultsWord[], flags: { isFinal: boolean; speechFinal: boolean; fromFinalize: boolean }): ResultsMessage {
    const transcript = words.map((w) => w.punctuated_word ?? w.word).join(' ');
    const confidence = words.length ? words.reduce((sum, w) => sum + w.confidence, 0) / words.length : 0;
    return {
      type: 'Results',
      channel_index: [0, 1],
      duration: seconds(end - start),
      start: seconds(start),
      is_final: flags.isFinal,
      speech_final: flags.speechFinal,
      from_finalize: flags.fromFinalize,
      channel: { alternatives: [{ transcript, confidence, words }] },
      metadata: { request_id: this.#requestId, model_info: this.#model.info, model_uuid: this.#model.uuid },
    };
  }

  #enqueue(step: () => void | Promise<void>): void {
    this.#outbox = this.#outbox
      .then(() => (this.#done || this.#stalled ? undefined : step()))
      .catch((err: Error) => this.#close({ code: 1011, reason: `offline recogniser failed: ${err.message}` }));
  }

  #send(message: ListenServerMessage): void {
    if (this.#done || this.#stalled || this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(JSON.stringify(message));
  }

  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#close(CLOSE.idle), this.#idleTimeoutMs);
  }

  #stopTimers(): void {
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#dropTimer);
  }

  #close(close: { code: number; reason: string }): void {
    if (this.#done) return;
    this.#done = true;
    this.#stopTimers();
    // A close reason is limited to 123 bytes.
    let reason = close.reason;
    while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
    this.#ws.close(close.code, reason);
  }
}
