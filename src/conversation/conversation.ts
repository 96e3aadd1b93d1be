// The conversation: turn taking, the LLM call, sentence chunking and the avatar's speech queue.
// DOM-free: it gets transcripts and avatar events in, and calls `speak()` / the LLM out.
import { createNanoEvents } from 'nanoevents';
import { toAvatarError, type HeygenAvatarError } from '../shared/errors.js';
import { LlmError, llmChunks, type ChatMessage, type LlmFunction } from './llm.js';
import { SentenceChunker } from './sentences.js';

export type ConversationState = 'listening' | 'thinking' | 'speaking';

/** One transcript message from the transcriber (Deepgram `Results`, reduced). */
export interface TranscriptUpdate {
  text: string;
  isFinal: boolean;
  speechFinal: boolean;
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
}

interface Reply {
  controller: AbortController;
  text: string;
  /** Sentences not yet accepted by the avatar service. */
  pending: number;
  llmDone: boolean;
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
  /** Sentences go to the avatar one after another, in order. */
  #speakChain: Promise<void> = Promise.resolve();

  constructor(options: ConversationOptions) {
    this.#options = options;
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

  /** Feeds one transcript result. A user turn ends at `speech_final` with words pending. */
  handleTranscript(update: TranscriptUpdate): void {
    const text = update.text.trim();
    if (text) this.#maybeBargeIn(text);
    if (update.isFinal) {
      if (text) {
        this.#segments.push(text);
        this.#events.emit('final', text);
      }
      this.#events.emit('interim', this.#segments.join(' '));
      if (update.speechFinal) this.#endTurn();
    } else if (text) {
      this.#events.emit('interim', [...this.#segments, text].join(' '));
    }
  }

  /** Deepgram's `UtteranceEnd`: ends the turn when noise kept `speech_final` from coming. */
  handleUtteranceEnd(): void {
    this.#endTurn();
  }

  /** The user typed a turn (or a page called `send()`). */
  send(text: string): Promise<void> {
    this.#segments = [];
    return this.#startReply(text.trim());
  }

  /** The avatar says `text` as it is, outside the LLM (greeting, `say()`). */
  say(text: string): Promise<void> {
    const clean = text.trim();
    if (!clean) return Promise.resolve();
    this.#history.push({ role: 'assistant', content: clean });
    this.#trimHistory();
    return this.#enqueueSpeech(clean);
  }

  /** The avatar service reported the avatar started / stopped talking. */
  avatarTalking(talking: boolean): void {
    this.#avatarTalking = talking;
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
    this.#reply?.controller.abort();
    this.#reply = undefined;
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

  #endTurn(): void {
    const text = this.#segments.join(' ').trim();
    this.#segments = [];
    if (!text) return;
    // Without barge-in, speech never cuts the avatar off: the turn waits for the reply to end.
    if (this.#options.bargeIn === false && (this.#avatarTalking || this.#reply)) {
      this.#heldTurn = this.#heldTurn ? `${this.#heldTurn} ${text}` : text;
      return;
    }
    void this.#startReply(text);
  }

  async #startReply(text: string): Promise<void> {
    if (!text) return;
    if (this.#reply) await this.interrupt();
    const history = this.#history.slice();
    this.#history.push({ role: 'user', content: text });
    this.#trimHistory();
    this.#events.emit('turn', text);
    const reply: Reply = { controller: new AbortController(), text: '', pending: 0, llmDone: false };
    this.#reply = reply;
    this.#updateState();
    const chunker = new SentenceChunker();
    const signal = reply.controller.signal;
    try {
      const turn = {
        text,
        history,
        signal,
        language: this.#options.language,
        ...(this.#options.systemPrompt ? { systemPrompt: this.#options.systemPrompt } : {}),
      };
      for await (const chunk of llmChunks(this.#options.llm, turn)) {
        if (signal.aborted) return;
        reply.text += chunk;
        this.#events.emit('replyDelta', chunk, reply.text);
        for (const sentence of chunker.push(chunk)) this.#speakSentence(reply, sentence);
      }
      if (signal.aborted) return;
      const rest = chunker.flush();
      if (rest) this.#speakSentence(reply, rest);
    } catch (err) {
      if (signal.aborted) return;
      const error = err instanceof LlmError ? err : new LlmError(`the llm callback failed: ${(err as Error)?.message ?? err}`, true, { cause: err });
      this.#events.emit('error', error);
    }
    if (signal.aborted) return;
    reply.llmDone = true;
    if (!reply.text.trim()) this.#finishReply(reply, false);
    else this.#maybeFinish(reply);
  }

  #speakSentence(reply: Reply, sentence: string): void {
    reply.pending++;
    this.#events.emit('sentence', sentence);
    void this.#enqueueSpeech(sentence, reply).finally(() => {
      reply.pending--;
      this.#maybeFinish(reply);
    });
  }

  #enqueueSpeech(text: string, reply?: Reply): Promise<void> {
    const run = this.#speakChain.then(async () => {
      if (reply?.controller.signal.aborted) return;
      try {
        await this.#options.speak(text);
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
    if (text) {
      this.#history.push({ role: 'assistant', content: text });
      this.#trimHistory();
    }
    this.#events.emit('reply', text, interrupted);
    this.#updateState();
  }

  #trimHistory(): void {
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
      void this.#startReply(held);
    }
  }
}
