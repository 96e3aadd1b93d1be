// The conversation: turn taking, the LLM call, sentence chunking, the avatar's speech queue,
// preemptive replies and per-turn latency figures.
// DOM-free: it gets transcripts and avatar events in, and calls `speak()` / the LLM out.
import { createNanoEvents } from 'nanoevents';
import { toAvatarError, type HeygenAvatarError } from '../shared/errors.js';
import { LlmError, llmChunks, type ChatMessage, type LlmFunction, type LlmTurn } from './llm.js';
import { isPause, sameWords, type PreemptiveOptions } from './preemptive.js';
import { SentenceChunker } from './sentences.js';
import { turnMetrics, type TurnMetrics, type TurnStamps } from './turn-metrics.js';

export type ConversationState = 'listening' | 'thinking' | 'speaking';

/** One transcript message from the transcriber (Deepgram `Results`, reduced). */
export interface TranscriptUpdate {
  text: string;
  isFinal: boolean;
  speechFinal: boolean;
  /** The transcriber flushed on request (Deepgram `from_finalize`: push-to-talk released, or a pause it heard). */
  fromFinalize?: boolean;
  /**
   * Silence (ms) after the last word, to the end of the audio this result covers, when the words
   * carry times. A recogniser names a word only once it is spoken, so the transcriber confirms the
   * silence with the audio's level: 0 when the visitor's voice was heard after that word.
   */
  pauseMs?: number;
  /** When the last word ended, on the conversation's clock (`now`), when known. */
  speechEndAt?: number;
}

export interface ConversationEvents {
  state(state: ConversationState): void;
  /** The words of the user's current utterance so far (finals + the latest interim). */
  interim(text: string): void;
  /** A final segment of the user's speech. */
  final(text: string): void;
  /** The user's completed turn, about to go to the LLM. */
  turn(text: string): void;
  /** A chunk of the reply as the LLM streams it. */
  replyDelta(text: string, soFar: string): void;
  /** A sentence handed to the avatar. */
  sentence(text: string): void;
  /** The whole reply (or what came before an interruption). */
  reply(text: string, interrupted: boolean): void;
  /** The LLM (`type` `llm`) or the avatar service (`type` `avatar`) failed; the conversation goes on. */
  error(error: HeygenAvatarError): void;
  /** The user spoke over the avatar: the reply is being interrupted. */
  bargeIn(text: string): void;
  /**
   * Latency figures of one turn: once the avatar started talking its reply, or once the reply
   * ended without (interrupted, failed, empty), or at the next turn.
   */
  metrics(metrics: TurnMetrics): void;
}

export interface ConversationOptions {
  llm: LlmFunction;
  /** Sends one sentence to the avatar; resolves when the avatar service accepted it. */
  speak: (text: string) => Promise<void>;
  /** Stops the avatar's current speech (barge-in). */
  interrupt?: () => Promise<void>;
  language: string;
  systemPrompt?: string;
  /** Keep at most this many messages of history (default 40). */
  maxHistory?: number;
  /**
   * Barge-in: the user's speech interrupts the avatar once a transcript of the new utterance has
   * `minWords` words (default 2: one word is too often a cough, a "hm", or the avatar's own echo).
   * `false` turns it off.
   */
  bargeIn?: false | { minWords?: number };
  /**
   * Preemptive replies (on unless `false`). At the first pause in the visitor's speech (see
   * `isPause`), the LLM is asked before the turn is confirmed; what it answers is held back (no
   * event, nothing said) until the turn ends with the same words (`sameWords`), and then goes out
   * at once. If the visitor goes on speaking, the words differ, or the turn has to wait (barge-in
   * off while the avatar talks), the call is aborted and the confirmed turn gets a call of its own.
   * At most one speculative call per turn; `preemptiveCalls` counts them.
   */
  preemptive?: false | PreemptiveOptions;
  /** The clock of the latency figures (ms; default `performance.now()`); `speechEndAt` is on it. */
  now?: () => number;
}

interface Reply {
  controller: AbortController;
  text: string;
  /** Sentences not yet accepted by the avatar service. */
  pending: number;
  llmDone: boolean;
  stamps: TurnStamps;
  /** A speculative reply not confirmed yet: what the LLM gave so far waits here, unseen and unheard. */
  held?: HeldReply;
}

interface HeldReply {
  /** The words the LLM was asked about. */
  text: string;
  /** The history it was asked with (`#historyVersion` then). */
  historyVersion: number;
  chunks: string[];
  sentences: string[];
  /** The call failed. Before the turn is confirmed that only means a call of its own for the turn; after, it is reported. */
  error?: LlmError;
}

export class Conversation {
  readonly #events = createNanoEvents<ConversationEvents>();
  readonly #options: ConversationOptions;
  #history: ChatMessage[] = [];
  #segments: string[] = [];
  #state: ConversationState = 'listening';
  #reply: Reply | undefined;
  #avatarTalking = false;
  /** A spoken turn that waits for the avatar to finish (barge-in off). */
  #heldTurn = '';
  #heldSpeechEndAt: number | undefined;
  /** Sentences go to the avatar one after another, in order. */
  #speakChain: Promise<void> = Promise.resolve();
  /** Counts changes to the history, so a speculative reply asked with an older one is not used. */
  #historyVersion = 0;
  /** The speculative reply of the turn in progress. */
  #speculation: Reply | undefined;
  /** The turn in progress had its speculative call. */
  #speculated = false;
  /** Speculative calls cancelled since the last turn began. */
  #cancelledSinceTurn = 0;
  /** When the last word heard so far in this turn ended. */
  #speechEndAt: number | undefined;
  /** The latest reply whose figures are not out yet (they wait for the avatar to start talking). */
  #measured: Reply | undefined;
  readonly #preemptiveCalls = { made: 0, cancelled: 0 };
  readonly #now: () => number;

  constructor(options: ConversationOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  on<E extends keyof ConversationEvents>(event: E, listener: ConversationEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  get state(): ConversationState {
    return this.#state;
  }

  get history(): readonly ChatMessage[] {
    return this.#history;
  }

  /** Speculative LLM calls made so far, and how many of them were cancelled (wasted). */
  get preemptiveCalls(): { made: number; cancelled: number } {
    return { ...this.#preemptiveCalls };
  }

  /** Feeds one transcript result. A user turn ends at `speech_final` with words pending. */
  handleTranscript(update: TranscriptUpdate): void {
    const text = update.text.trim();
    if (text) {
      this.#maybeBargeIn(text);
      if (update.speechEndAt !== undefined) this.#speechEndAt = update.speechEndAt;
    }
    let soFar: string;
    if (update.isFinal) {
      if (text) {
        this.#segments.push(text);
        this.#events.emit('final', text);
      }
      soFar = this.#segments.join(' ');
      this.#events.emit('interim', soFar);
      if (update.speechFinal) return this.#endTurn();
    } else {
      if (!text) return;
      soFar = [...this.#segments, text].join(' ');
      this.#events.emit('interim', soFar);
    }
    const speculation = this.#speculation;
    // The visitor went on speaking, or the transcriber revised the words: the speculation is wrong.
    if (speculation && text && !sameWords(speculation.held!.text, soFar)) this.#cancelSpeculation();
    else if (!speculation) this.#maybeSpeculate(update, soFar);
  }

  /** Deepgram's `UtteranceEnd`: ends the turn when noise kept `speech_final` from coming. */
  handleUtteranceEnd(): void {
    this.#endTurn();
  }

  /** The user typed a turn (or a page called `send()`). */
  send(text: string): Promise<void> {
    this.#segments = [];
    this.#speechEndAt = undefined;
    this.#speculated = false;
    this.#cancelSpeculation();
    return this.#startReply(text.trim(), 'text');
  }

  /** The avatar says `text` as it is, outside the LLM (greeting, `say()`). */
  say(text: string): Promise<void> {
    const clean = text.trim();
    if (!clean) return Promise.resolve();
    this.#pushHistory({ role: 'assistant', content: clean });
    return this.#enqueueSpeech(clean);
  }

  /** The avatar service reported the avatar started / stopped talking. */
  avatarTalking(talking: boolean): void {
    this.#avatarTalking = talking;
    const stamps = this.#measured?.stamps;
    if (talking && stamps?.sentenceAt !== undefined && stamps.talkingAt === undefined) {
      stamps.talkingAt = this.#now();
      // The avatar may start before the service's answer to the task arrives: the figures wait for both.
      if (stamps.acceptedAt !== undefined) this.#emitMetrics();
    }
    this.#updateState();
  }

  /** Stops the reply in progress: aborts the LLM, drops queued sentences, interrupts the avatar. */
  async interrupt(): Promise<void> {
    const reply = this.#reply;
    if (reply) {
      reply.controller.abort();
      this.#finishReply(reply, true);
    }
    this.#speakChain = Promise.resolve();
    if (this.#avatarTalking || reply) await this.#options.interrupt?.();
  }

  /** Ends everything in flight (session stop). */
  dispose(): void {
    this.#heldTurn = '';
    this.#cancelSpeculation();
    this.#reply?.controller.abort();
    this.#reply = undefined;
    this.#measured = undefined;
    this.#events.events = {};
  }

  #maybeBargeIn(text: string): void {
    const option = this.#options.bargeIn;
    if (option === false || (!this.#avatarTalking && !this.#reply)) return;
    const words = text.split(/\s+/).filter(Boolean).length;
    if (words < (option?.minWords ?? 2)) return;
    this.#events.emit('bargeIn', text);
    void this.interrupt();
  }

  /** Without barge-in, speech never cuts the avatar off: a turn ending now would wait for the reply to end. */
  #turnMustWait(): boolean {
    return this.#options.bargeIn === false && (this.#avatarTalking || !!this.#reply);
  }

  #endTurn(): void {
    const text = this.#segments.join(' ').trim();
    const speechEndAt = this.#speechEndAt;
    this.#segments = [];
    this.#speechEndAt = undefined;
    this.#speculated = false;
    const speculation = this.#speculation;
    this.#speculation = undefined;
    if (text && !this.#turnMustWait() && speculation && this.#confirms(speculation, text)) {
      void this.#confirmSpeculation(speculation, text, speechEndAt);
      return;
    }
    if (speculation) this.#cancel(speculation);
    if (!text) return;
    if (this.#turnMustWait()) {
      this.#heldTurn = this.#heldTurn ? `${this.#heldTurn} ${text}` : text;
      this.#heldSpeechEndAt = speechEndAt;
      return;
    }
    void this.#startReply(text, 'voice', speechEndAt);
  }

  /** A speculative call at the first pause of a turn, when the turn would be answered at once. */
  #maybeSpeculate(update: TranscriptUpdate, soFar: string): void {
    const option = this.#options.preemptive;
    if (option === false || this.#speculated || this.#reply || this.#turnMustWait() || !soFar) return;
    if (!isPause(update, option?.minPauseMs)) return;
    this.#speculated = true;
    this.#preemptiveCalls.made++;
    const reply = this.#newReply('voice');
    reply.held = { text: soFar, historyVersion: this.#historyVersion, chunks: [], sentences: [] };
    this.#speculation = reply;
    void this.#generate(reply, soFar, this.#history.slice());
  }

  /** Whether the confirmed turn `text` is the one `speculation` was asked about, with the same history. */
  #confirms(speculation: Reply, text: string): boolean {
    const held = speculation.held!;
    return !held.error && held.historyVersion === this.#historyVersion && sameWords(held.text, text);
  }

  /** Aborts the speculative call in progress, if any. */
  #cancelSpeculation(): void {
    const speculation = this.#speculation;
    this.#speculation = undefined;
    if (speculation) this.#cancel(speculation);
  }

  #cancel(speculation: Reply): void {
    speculation.controller.abort();
    this.#preemptiveCalls.cancelled++;
    this.#cancelledSinceTurn++;
  }

  /** The turn is confirmed with the speculation's words: what it held goes out now, in order. */
  async #confirmSpeculation(reply: Reply, text: string, speechEndAt: number | undefined): Promise<void> {
    reply.stamps.preemptive = true;
    await this.#beginTurn(reply, text, speechEndAt);
    if (reply.controller.signal.aborted) return;
    const held = reply.held!;
    reply.held = undefined;
    let soFar = '';
    for (const chunk of held.chunks) {
      soFar += chunk;
      this.#events.emit('replyDelta', chunk, soFar);
    }
    for (const sentence of held.sentences) this.#speakSentence(reply, sentence);
    if (held.error) {
      this.#events.emit('error', held.error);
      reply.llmDone = true;
    }
    if (reply.llmDone) this.#settle(reply);
  }

  #newReply(source: 'voice' | 'text'): Reply {
    return { controller: new AbortController(), text: '', pending: 0, llmDone: false, stamps: { source, preemptive: false, cancelled: 0 } };
  }

  async #startReply(text: string, source: 'voice' | 'text', speechEndAt?: number): Promise<void> {
    if (!text) return;
    const reply = this.#newReply(source);
    const history = await this.#beginTurn(reply, text, speechEndAt);
    await this.#generate(reply, text, history);
  }

  /** The turn is confirmed: it joins the history, the `turn` event fires, `reply` is the reply in progress. */
  async #beginTurn(reply: Reply, text: string, speechEndAt: number | undefined): Promise<ChatMessage[]> {
    if (this.#reply) await this.interrupt();
    const history = this.#history.slice();
    this.#pushHistory({ role: 'user', content: text });
    this.#emitMetrics();
    Object.assign(reply.stamps, { speechEndAt, turnAt: this.#now(), cancelled: this.#cancelledSinceTurn });
    this.#cancelledSinceTurn = 0;
    this.#measured = reply;
    this.#events.emit('turn', text);
    this.#reply = reply;
    this.#updateState();
    return history;
  }

  /** Streams the LLM's reply: out as it comes, or into `reply.held` while the reply is speculative. */
  async #generate(reply: Reply, text: string, history: ChatMessage[]): Promise<void> {
    const chunker = new SentenceChunker();
    const signal = reply.controller.signal;
    try {
      const turn: LlmTurn = {
        text,
        history,
        signal,
        language: this.#options.language,
        ...(this.#options.systemPrompt ? { systemPrompt: this.#options.systemPrompt } : {}),
        ...(reply.held ? { preemptive: true } : {}),
      };
      for await (const chunk of llmChunks(this.#options.llm, turn)) {
        if (signal.aborted) return;
        reply.text += chunk;
        reply.stamps.firstChunkAt ??= this.#now();
        const sentences = chunker.push(chunk);
        if (reply.held) {
          reply.held.chunks.push(chunk);
          reply.held.sentences.push(...sentences);
          continue;
        }
        this.#events.emit('replyDelta', chunk, reply.text);
        for (const sentence of sentences) this.#speakSentence(reply, sentence);
      }
      if (signal.aborted) return;
      const rest = chunker.flush();
      if (rest && reply.held) reply.held.sentences.push(rest);
      else if (rest) this.#speakSentence(reply, rest);
    } catch (err) {
      if (signal.aborted) return;
      const error = err instanceof LlmError ? err : new LlmError(`the llm callback failed: ${(err as Error)?.message ?? err}`, true, { cause: err });
      // A failed speculation stays quiet: the confirmed turn gets a call of its own, which reports.
      if (reply.held) {
        reply.held.error = error;
        return;
      }
      this.#events.emit('error', error);
    }
    if (signal.aborted) return;
    reply.llmDone = true;
    if (!reply.held) this.#settle(reply);
  }

  /** The LLM is done: the reply ends once its sentences are accepted (at once when it was empty). */
  #settle(reply: Reply): void {
    if (!reply.text.trim()) this.#finishReply(reply, false);
    else this.#maybeFinish(reply);
  }

  #speakSentence(reply: Reply, sentence: string): void {
    reply.pending++;
    const first = reply.stamps.sentenceAt === undefined;
    if (first) reply.stamps.sentenceAt = this.#now();
    this.#events.emit('sentence', sentence);
    const accepted = () => {
      if (!first) return;
      reply.stamps.acceptedAt = this.#now();
      if (this.#measured === reply && reply.stamps.talkingAt !== undefined) this.#emitMetrics();
    };
    void this.#enqueueSpeech(sentence, reply, accepted).finally(() => {
      reply.pending--;
      this.#maybeFinish(reply);
    });
  }

  #enqueueSpeech(text: string, reply?: Reply, accepted?: () => void): Promise<void> {
    const run = this.#speakChain.then(async () => {
      if (reply?.controller.signal.aborted) return;
      try {
        await this.#options.speak(text);
        accepted?.();
      } catch (err) {
        this.#events.emit('error', toAvatarError(err, 'avatar'));
      }
    });
    this.#speakChain = run;
    return run;
  }

  #maybeFinish(reply: Reply): void {
    if (reply === this.#reply && reply.llmDone && reply.pending === 0) this.#finishReply(reply, false);
  }

  #finishReply(reply: Reply, interrupted: boolean): void {
    if (this.#reply !== reply) return;
    this.#reply = undefined;
    const text = reply.text.trim();
    if (text) this.#pushHistory({ role: 'assistant', content: text });
    this.#events.emit('reply', text, interrupted);
    // The figures wait for the avatar to start talking, unless it will not.
    if (this.#measured === reply && (interrupted || reply.stamps.acceptedAt === undefined)) this.#emitMetrics();
    this.#updateState();
  }

  #emitMetrics(): void {
    const reply = this.#measured;
    this.#measured = undefined;
    if (reply) this.#events.emit('metrics', turnMetrics(reply.stamps));
  }

  #pushHistory(message: ChatMessage): void {
    this.#history.push(message);
    this.#historyVersion++;
    const max = this.#options.maxHistory ?? 40;
    if (this.#history.length > max) this.#history.splice(0, this.#history.length - max);
  }

  #updateState(): void {
    const next: ConversationState = this.#avatarTalking ? 'speaking' : this.#reply ? 'thinking' : 'listening';
    if (next === this.#state) return;
    this.#state = next;
    this.#events.emit('state', next);
    if (next === 'listening' && this.#heldTurn) {
      const held = this.#heldTurn;
      this.#heldTurn = '';
      void this.#startReply(held, 'voice', this.#heldSpeechEndAt);
    }
  }
}
