// The two participants LiveAvatar puts in a FULL session's room: the avatar (identity `heygen`, the
// drawn face and espeak-ng voice) and the agent (`liveavatar-agent-<session_id>`), which reads the
// commands on `agent-control`, drives the avatar and reports on `agent-response`. The official client
// calls a session started only once both have joined; it takes events from whoever sends them on the
// topic, and LiveAvatar's docs name the agent as the one that processes events, so the agent sends.
import { randomUUID } from 'node:crypto';
import { Room, RoomEvent } from '@livekit/rtc-node';
import { AVATAR_SAMPLE_RATE, SpeakingAvatar, type Utterance } from '../avatar/speaking-avatar.js';
import { synthesizeSpeech } from '../avatar/speech.js';
import {
  COMMAND_TOPIC,
  EVENT_TOPIC,
  type LiveAvatarCommand,
  type LiveAvatarEvent,
  type LiveAvatarEventType,
  type StopReason,
} from './protocol.js';

export interface LiveAvatarAgentOptions {
  url: string;
  /** Tokens for the avatar (identity `heygen`) and the agent (`liveavatar-agent-<sid>`). */
  avatarToken: string;
  agentToken: string;
  sessionId: string;
  language: string;
  /** espeak rate (1 = 175 words per minute), from avatar_persona.voice_settings.speed. */
  rate: number;
  video: { width: number; height: number; fps: number };
  /** Every well-formed command, before it is acted on (records, idle timer, faults). */
  onCommand: (command: LiveAvatarCommand) => void;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class LiveAvatarAgent {
  readonly #options: LiveAvatarAgentOptions;
  readonly #room = new Room();
  #avatar!: SpeakingAvatar;
  /** Commands' event_id by the utterance speaking them (source_event_id of the events). */
  readonly #sources = new WeakMap<Utterance, string | null>();
  /** Speech is synthesised in command order; an interrupt drops what is still being synthesised. */
  #synthesis: Promise<void> = Promise.resolve();
  #generation = 0;
  /** Events leave one after another, so they arrive in the order they happened. */
  #sending: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: LiveAvatarAgentOptions) {
    this.#options = options;
  }

  /** Joins the avatar, then the agent; resolves when both are in the room. */
  static async start(options: LiveAvatarAgentOptions): Promise<LiveAvatarAgent> {
    const agent = new LiveAvatarAgent(options);
    agent.#avatar = await SpeakingAvatar.join({
      url: options.url,
      token: options.avatarToken,
      ...options.video,
      onStart: (u) => agent.#emit('avatar.speak_started', agent.#sources.get(u) ?? null),
      onEnd: (u) => agent.#emit('avatar.speak_ended', agent.#sources.get(u) ?? null),
    });
    try {
      agent.#room.on(RoomEvent.DataReceived, (payload, _participant, _kind, topic) => {
        if (topic === COMMAND_TOPIC) agent.#receive(payload);
      });
      await agent.#room.connect(options.url, options.agentToken, { autoSubscribe: false, dynacast: false });
    } catch (err) {
      await agent.#avatar.close();
      throw err;
    }
    return agent;
  }

  /** True while the avatar speaks or has speech queued. */
  get busy(): boolean {
    return this.#avatar.busy;
  }

  /** Ends the session in the room: `session.stopped`, then the avatar and the agent leave. */
  async stop(reason: StopReason): Promise<void> {
    if (this.#closed) return;
    // Speech in progress ends first (its speak_ended), then the session.
    this.#generation++;
    this.#avatar.interrupt();
    this.#emit('session.stopped', null, { stop_reason: reason, end_reason: reason });
    this.#closed = true;
    await this.#sending;
    await this.#avatar.close().catch(() => undefined);
    await this.#room.disconnect().catch(() => undefined);
  }

  #receive(payload: Uint8Array): void {
    if (this.#closed) return;
    let command: unknown;
    try {
      command = JSON.parse(decoder.decode(payload));
    } catch {
      return;
    }
    if (typeof command !== 'object' || command === null || typeof (command as LiveAvatarCommand).event_type !== 'string') return;
    const cmd = command as LiveAvatarCommand;
    this.#options.onCommand(cmd);
    if (this.#closed) return;
    const source = typeof cmd.event_id === 'string' ? cmd.event_id : null;
    switch (cmd.event_type) {
      case 'avatar.speak_text':
        if (typeof cmd.text === 'string' && cmd.text.trim()) this.#say(cmd.text, source);
        break;
      case 'avatar.speak_response':
        // LiveAvatar's own LLM would answer here. The stand-in has none: it says a fixed echo
        // (as the HeyGen stand-in does for `talk` tasks), so the path stays observable offline.
        if (typeof cmd.text === 'string' && cmd.text.trim()) this.#say(`You said: ${cmd.text}`, source);
        break;
      case 'avatar.interrupt':
        this.#generation++;
        this.#avatar.interrupt();
        break;
      // avatar.start_listening / avatar.stop_listening: accepted; the drawn face has no listening pose.
      default:
        break;
    }
  }

  /** Queues `text`: its transcription at once (as LiveAvatar does for speak_text), the speech in order. */
  #say(text: string, source: string | null): void {
    this.#emit('avatar.transcription', source, { text });
    const generation = this.#generation;
    this.#synthesis = this.#synthesis.then(async () => {
      if (generation !== this.#generation) return;
      const pcm = await synthesizeSpeech(text, {
        language: this.#options.language,
        rate: this.#options.rate,
        sampleRate: AVATAR_SAMPLE_RATE,
      }).catch((err: unknown) => {
        console.error('heygen-avatar offline: LiveAvatar stand-in speech synthesis failed', err);
        return undefined;
      });
      if (!pcm || generation !== this.#generation) return;
      const utterance: Utterance = { id: source ?? randomUUID(), text, pcm };
      this.#sources.set(utterance, source);
      void this.#avatar.speak(utterance);
    });
  }

  #emit(event_type: LiveAvatarEventType, source_event_id: string | null, extra: Partial<LiveAvatarEvent> = {}): void {
    if (this.#closed) return;
    const event: LiveAvatarEvent = {
      event_id: randomUUID(),
      event_type,
      session_id: this.#options.sessionId,
      source_event_id,
      ...extra,
    };
    const data = encoder.encode(JSON.stringify(event));
    this.#sending = this.#sending
      .then(() => this.#room.localParticipant?.publishData(data, { reliable: true, topic: EVENT_TOPIC }))
      .catch(() => undefined);
  }
}
