// Deepgram live transcription from the browser, through @deepgram/sdk's listen v1 socket, with a
// temporary token as the `bearer` subprotocol. Keeps the socket alive while no audio flows,
// flushes on demand, and reopens a dropped socket with a fresh token, replaying the audio
// captured while it was down.
import { createNanoEvents } from 'nanoevents';
import type { TranscriptUpdate } from '../conversation/conversation.js';
import { TranscriberError } from '../shared/errors.js';
import { loadDeepgram } from './load-deepgram.js';
import { VoiceActivity } from './voice-activity.js';

export interface DeepgramOptions {
  /** API base (https://api.deepgram.com or the offline stand-in). */
  url: string;
  token: string;
  language: string;
  model: string;
  /**
   * Milliseconds of silence that end speech: Deepgram's `speech_final`, and with `flushOnPauseMs`
   * also the silence this transcriber hears itself after a flushed pause (see `endOfSpeech`).
   */
  endpointing: number;
  /**
   * Flush (`Finalize`) once the audio's level has been silent this long after the visitor's voice,
   * so the words so far come back at once as a final with `from_finalize`, instead of with the next
   * interim (Deepgram sends one about every second) or `speech_final`. Then, once that silence
   * reaches `endpointing`, `endOfSpeech` ends the turn: Deepgram answers no `speech_final` for audio
   * it already finalised. Off when unset.
   */
  flushOnPauseMs?: number;
  utteranceEndMs: number;
  /** Returns a fresh temporary token for a reconnect. */
  refreshToken: () => Promise<string>;
  /** Send KeepAlive when no audio was sent for this long (ms, default 4000; Deepgram closes after ~10 s). */
  keepAliveMs?: number;
}

export interface TranscriberEvents {
  /**
   * A `Results` message. With words, `pauseMs` is the silence after the last one to the end of the
   * audio the result covers, as the audio's level confirms it (0 once the visitor's voice was heard
   * after that word: a word still being spoken, or speech again), and `speechEndAt` when that word
   * ended (`performance.now()` when its audio was captured, from the frames' capture times).
   */
  transcript(update: TranscriptUpdate & { start: number; duration: number; fromFinalize: boolean }): void;
  utteranceEnd(): void;
  /**
   * The visitor stopped speaking: after a pause flush (`flushOnPauseMs`) the audio's level stayed
   * silent for `endpointing` ms, and the flush's words have arrived; or `finalize(true)`'s words
   * have (push-to-talk released).
   */
  endOfSpeech(): void;
  speechStarted(): void;
  /** `open`, `reconnecting` (dropped; reopening), `closed` (for good). */
  status(status: 'open' | 'reconnecting' | 'closed'): void;
  /** Speech recognition failed; `error.closed` when the socket is gone for good. */
  error(error: TranscriberError): void;
}

type V1Socket = Awaited<ReturnType<import('@deepgram/sdk/listen/v1').V1Client['connect']>>;

/** A frame of audio and when it was captured (`performance.now()` when it reached `send()`). */
interface Captured {
  frame: ArrayBuffer;
  at: number;
}

/** Audio kept while the socket is down (about 30 s of 16 kHz Int16). */
const MAX_BUFFERED_BYTES = 30 * 16_000 * 2;
/** A flush Deepgram does not answer (nothing was buffered) stops holding the end of speech back after this long. */
const FLUSH_ANSWER_MS = 1000;
const MAX_RECONNECTS = 4;
const BYTES_PER_SECOND = 16_000 * 2;
/** A word ending this long after the flushed voice was one the level missed (see `#onMessage`). */
const QUIET_WORD_SECONDS = 0.3;
/** A word's audio may ring on a little after the recogniser's end of it. */
const VOICE_TAIL_SECONDS = 0.1;

export class DeepgramTranscriber {
  readonly #events = createNanoEvents<TranscriberEvents>();
  readonly #options: DeepgramOptions;
  #token: string;
  #socket: V1Socket | undefined;
  #open = false;
  #closing = false;
  /** Audio captured while the socket was down, to send once it is back. */
  #pending: Captured[] = [];
  #pendingBytes = 0;
  /**
   * Audio sent on the current socket that no final result has covered yet, with its end time in
   * the socket's stream (seconds). A socket that drops mid-utterance takes these words with it;
   * they are sent again on the next socket, so no word is lost. Also what maps the words' stream
   * times back to when they were captured.
   */
  #unconfirmed: (Captured & { end: number })[] = [];
  #unconfirmedBytes = 0;
  #streamSeconds = 0;
  /** Where the visitor's voice was last heard in the current socket's stream. */
  readonly #voice = new VoiceActivity(16_000);
  /** The voice end (stream seconds) the last pause flush was sent for; a flush per stretch of voice. */
  #flushedVoiceEnd = 0;
  /** When the pause flush not answered yet was sent (`performance.now()`), or undefined. */
  #flushSentAt: number | undefined;
  /** A pause was flushed and the end of speech is still to be told. */
  #endPending = false;
  /** `finalize(true)`: the end of speech goes out with the flush's answer, or after FLUSH_ANSWER_MS without one. */
  #endOnAnswer: ReturnType<typeof setTimeout> | undefined;
  /** Finalize messages sent and not answered yet (`from_finalize`). */
  #unanswered = 0;
  #lastSend = 0;
  #keepAlive: ReturnType<typeof setInterval> | undefined;

  constructor(options: DeepgramOptions) {
    this.#options = options;
    this.#token = options.token;
  }

  on<E extends keyof TranscriberEvents>(event: E, listener: TranscriberEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** Opens the socket; resolves once it is open. */
  async open(): Promise<void> {
    await this.#connect();
    const every = this.#options.keepAliveMs ?? 4000;
    this.#keepAlive = setInterval(() => {
      if (this.#open && performance.now() - this.#lastSend >= every) this.#sendJson({ type: 'KeepAlive' });
    }, Math.min(1000, every));
  }

  /** Sends one frame of linear16 audio, just captured; kept for replay while the socket is reconnecting. */
  send(frame: ArrayBuffer): void {
    this.#send({ frame, at: performance.now() });
  }

  #send(captured: Captured): void {
    if (this.#closing) return;
    if (this.#open && this.#socket) {
      this.#socket.sendMedia(captured.frame);
      this.#lastSend = performance.now();
      this.#voice.push(captured.frame);
      this.#streamSeconds += captured.frame.byteLength / BYTES_PER_SECOND;
      this.#unconfirmed.push({ ...captured, end: this.#streamSeconds });
      this.#unconfirmedBytes += captured.frame.byteLength;
      while (this.#unconfirmedBytes > MAX_BUFFERED_BYTES) this.#unconfirmedBytes -= this.#unconfirmed.shift()!.frame.byteLength;
      this.#watchPause();
      return;
    }
    this.#keep(captured);
  }

  #keep(captured: Captured): void {
    this.#pending.push(captured);
    this.#pendingBytes += captured.frame.byteLength;
    while (this.#pendingBytes > MAX_BUFFERED_BYTES) this.#pendingBytes -= this.#pending.shift()!.frame.byteLength;
  }

  /** Flushes at the visitor's first pause after voice; tells the end of speech once the pause lasts. */
  #watchPause(): void {
    const pauseMs = this.#options.flushOnPauseMs;
    const voiceEnd = this.#voice.lastVoiceEnd;
    if (pauseMs === undefined || voiceEnd === 0) return;
    const silentMs = (this.#streamSeconds - voiceEnd) * 1000;
    if (voiceEnd > this.#flushedVoiceEnd) {
      if (silentMs < pauseMs) return;
      this.#flushedVoiceEnd = voiceEnd;
      this.#flushSentAt = performance.now();
      this.#endPending = true;
      this.finalize();
      return;
    }
    // Every flush answered (its words told), or Deepgram left one unanswered (nothing was buffered).
    const answered = this.#unanswered === 0 || performance.now() - (this.#flushSentAt ?? 0) >= FLUSH_ANSWER_MS;
    if (this.#endPending && answered && silentMs >= this.#options.endpointing) this.#endOfSpeech();
  }

  /** Silence (ms) from the last word (`wordEnd`) to `audioEnd`, in stream seconds; 0 if voice came after the word. */
  #pauseAfter(wordEnd: number, audioEnd: number): number {
    const voiceEnd = this.#voice.lastVoiceEnd;
    // Voice after the word's end but before the audio's: a word the recogniser has not named yet.
    if (voiceEnd > wordEnd + VOICE_TAIL_SECONDS) return 0;
    return Math.max(0, Math.round((audioEnd - wordEnd) * 1000));
  }

  /** When the audio at `t` (seconds into the current socket's stream) was captured, if still known. */
  #capturedAt(t: number): number | undefined {
    const frame = this.#unconfirmed.find((u) => u.end >= t - 1e-3);
    return frame && frame.at - Math.max(0, frame.end - t) * 1000;
  }

  /**
   * Asks Deepgram to flush what it has heard (a pause: `flushOnPauseMs`). With `endOfSpeech`
   * (push-to-talk released: no more audio comes, so neither `speech_final` nor `UtteranceEnd`
   * would), `endOfSpeech` follows the flushed words.
   */
  finalize(endOfSpeech = false): void {
    if (this.#open) this.#unanswered++;
    this.#sendJson({ type: 'Finalize' });
    if (!endOfSpeech) return;
    clearTimeout(this.#endOnAnswer);
    this.#endOnAnswer = setTimeout(() => this.#endOfSpeech(), FLUSH_ANSWER_MS);
  }

  #endOfSpeech(): void {
    clearTimeout(this.#endOnAnswer);
    this.#endOnAnswer = undefined;
    this.#endPending = false;
    this.#unanswered = 0;
    this.#flushSentAt = undefined;
    this.#flushedVoiceEnd = this.#voice.lastVoiceEnd;
    this.#events.emit('endOfSpeech');
  }

  /** Closes for good: CloseStream, then the socket. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#keepAlive);
    clearTimeout(this.#endOnAnswer);
    this.#sendJson({ type: 'CloseStream' });
    const socket = this.#socket;
    this.#socket = undefined;
    this.#open = false;
    // Let CloseStream leave before the close frame.
    setTimeout(() => socket?.close(), 50);
    this.#events.emit('status', 'closed');
  }

  #sendJson(message: { type: 'KeepAlive' | 'Finalize' | 'CloseStream' }): void {
    const socket = this.#socket;
    if (!this.#open || !socket) return;
    try {
      if (message.type === 'KeepAlive') socket.sendKeepAlive(message as never);
      else if (message.type === 'Finalize') socket.sendFinalize(message as never);
      else socket.sendCloseStream(message as never);
      this.#lastSend = performance.now();
    } catch {
      // closed under us: the close handler reconnects
    }
  }

  async #connect(): Promise<void> {
    const { V1Client } = await loadDeepgram();
    const o = this.#options;
    // Browsers take ws(s):// for WebSockets; the session endpoint may give the API's http(s) base.
    const client = new V1Client({ baseUrl: o.url.replace(/^http/, 'ws'), apiKey: 'unused-in-browser' } as never);
    const socket = await client.connect({
      model: o.model,
      language: o.language,
      smart_format: 'true',
      interim_results: 'true',
      utterance_end_ms: String(o.utteranceEndMs),
      vad_events: 'true',
      endpointing: String(o.endpointing),
      encoding: 'linear16',
      channels: '1',
      sample_rate: '16000',
      protocols: ['bearer', this.#token],
      reconnectAttempts: 0,
    } as never);
    this.#socket = socket;
    this.#streamSeconds = 0;
    this.#voice.restart();
    this.#flushedVoiceEnd = 0;
    this.#flushSentAt = undefined;
    this.#endPending = false;
    this.#unanswered = 0;
    socket.on('message', (m: unknown) => this.#onMessage(m as Record<string, unknown>));
    socket.on('close', (event: { code?: number; reason?: string }) => this.#onClose(socket, event));
    await socket.waitForOpen();
    this.#open = true;
    this.#lastSend = performance.now();
    this.#events.emit('status', 'open');
    const replay = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const captured of replay) this.#send(captured);
  }

  #onMessage(m: Record<string, unknown>): void {
    switch (m.type) {
      case 'Results': {
        const start = Number(m.start) || 0;
        const duration = Number(m.duration) || 0;
        const alt = (m.channel as { alternatives?: { transcript?: string; words?: { end?: unknown }[] }[] })?.alternatives?.[0];
        const lastWordEnd = Number(alt?.words?.at(-1)?.end);
        // Before the final below lets go of the frames the words were captured in.
        const speechEndAt = Number.isFinite(lastWordEnd) ? this.#capturedAt(lastWordEnd) : undefined;
        if (m.is_final === true) {
          while (this.#unconfirmed.length && this.#unconfirmed[0].end <= start + duration + 1e-3) {
            this.#unconfirmedBytes -= this.#unconfirmed.shift()!.frame.byteLength;
          }
        }
        // Words after the flushed voice, in audio the level took for silence (a quiet word): the
        // level cannot tell this visitor's pauses, so the end of speech is left to Deepgram.
        if (this.#endPending && lastWordEnd > this.#flushedVoiceEnd + QUIET_WORD_SECONDS) this.#endPending = false;
        this.#events.emit('transcript', {
          text: alt?.transcript ?? '',
          isFinal: m.is_final === true,
          speechFinal: m.speech_final === true,
          fromFinalize: m.from_finalize === true,
          start,
          duration,
          ...(Number.isFinite(lastWordEnd) ? { pauseMs: this.#pauseAfter(lastWordEnd, start + duration) } : {}),
          ...(speechEndAt !== undefined ? { speechEndAt } : {}),
        });
        if (m.from_finalize === true) this.#unanswered = Math.max(0, this.#unanswered - 1);
        // The last flush answered, its words told: the released push-to-talk's turn is over.
        if (m.from_finalize === true && this.#endOnAnswer !== undefined && this.#unanswered === 0) this.#endOfSpeech();
        break;
      }
      case 'UtteranceEnd':
        this.#events.emit('utteranceEnd');
        break;
      case 'SpeechStarted':
        this.#events.emit('speechStarted');
        break;
      default:
        break;
    }
  }

  #onClose(socket: V1Socket, event: { code?: number; reason?: string }): void {
    if (socket !== this.#socket || this.#closing) return;
    this.#open = false;
    this.#socket = undefined;
    // What the dead socket had not confirmed goes first, then what was captured since.
    const lost = this.#unconfirmed.map(({ frame, at }) => ({ frame, at }));
    this.#unconfirmed = [];
    this.#unconfirmedBytes = 0;
    const gap = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const captured of [...lost, ...gap]) this.#keep(captured);
    void this.#reconnect(event);
  }

  /** Reopens with a fresh token, backing off; gives up (non-recoverable error) after a few tries. */
  async #reconnect(event: { code?: number; reason?: string }): Promise<void> {
    this.#events.emit('status', 'reconnecting');
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_RECONNECTS && !this.#closing; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 2000)));
      try {
        this.#token = await this.#options.refreshToken();
        if (this.#closing) return;
        await this.#connect();
        return;
      } catch (err) {
        lastError = err;
      }
    }
    if (this.#closing) return;
    const why = lastError instanceof Error ? `: ${lastError.message}` : '';
    this.#events.emit('error', new TranscriberError(`the transcription socket closed (${event.code ?? '?'}) and could not be reopened${why}`, true, { cause: lastError }));
    this.close();
  }
}
