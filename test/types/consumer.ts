// A TypeScript user's page and server, written against the package as installed (see tsconfig.json).
// Each `@ts-expect-error` line is a wrong use that must stay an error.
import {
  AvatarSession,
  HeygenAvatarError,
  MicrophoneError,
  type AvatarErrorDetail,
  type AvatarState,
  type ChatMessage,
  type HeygenAvatar,
  type HeygenAvatarEventDetails,
  type LlmFunction,
  type LlmResult,
  type LlmTurn,
  type SessionRequest,
  type SessionResponse,
  type TokenProvider,
  type UiStrings,
} from 'heygen-avatar';
import { defineHeygenAvatar } from 'heygen-avatar/define';
import { createSessionBroker, type BrokerConfig, type SessionBroker } from 'heygen-avatar/broker';
import type { OfflineWorld } from 'heygen-avatar/dev';

defineHeygenAvatar();
const el = document.createElement('heygen-avatar');
const asElement: HeygenAvatar | null = document.querySelector('heygen-avatar');

// Your own LLM, streamed: `turn` is typed without an annotation.
el.llm = async function* (turn) {
  const history: readonly ChatMessage[] = turn.history;
  turn.signal.addEventListener('abort', () => console.log('barge-in'));
  yield `You said “${turn.text}” (${turn.language}) after ${history.length} messages`;
};
el.llm = (turn: LlmTurn) => turn.text;
el.llm = async ({ text }) => `later: ${text}`;
const typed: LlmFunction = (turn): LlmResult => [turn.text];
el.llm = typed;
// @ts-expect-error an llm answers with text, not a number
el.llm = () => 42;

const tokenProvider: TokenProvider = async (request: SessionRequest, signal) => {
  const res = await fetch('/api/avatar/session', { method: 'POST', body: JSON.stringify(request), signal });
  return (await res.json()) as SessionResponse;
};
el.tokenProvider = tokenProvider;

// Events are typed by name.
el.addEventListener('heygen-avatar:turn', (e) => {
  const text: string = e.detail.text;
  const source: 'voice' | 'text' = e.detail.source;
  console.log(text, source);
});
el.addEventListener('heygen-avatar:reply-delta', (e) => console.log(e.detail.delta, e.detail.text.length));
el.addEventListener('heygen-avatar:error', (e) => {
  const detail: AvatarErrorDetail = e.detail;
  if (!detail.recoverable) console.error(detail.type, detail.message);
});
el.addEventListener('heygen-avatar:session-end', (e) => e.detail.history.map((m) => m.content));
document.addEventListener('heygen-avatar:state', (e) => {
  const state: AvatarState = e.detail.state;
  console.log(state, e.detail.previous);
});
// @ts-expect-error the turn event's detail has no `delta`
el.addEventListener('heygen-avatar:turn', (e) => e.detail.delta);
const replyDetail: HeygenAvatarEventDetails['heygen-avatar:reply'] = { text: 'Hello', interrupted: false };

// Methods and read-only properties.
await el.start();
await el.say('Welcome!');
await el.send('Hi');
await el.interrupt();
el.mute();
el.unmute();
await el.stop();
const strings: UiStrings = el.strings;
console.log(el.state, el.sessionId, el.history.length, strings.start, asElement, replyDetail);
// @ts-expect-error state is read-only
el.state = 'idle';
// @ts-expect-error say() takes text
await el.say(42);

// The session layer, for a page with its own UI.
const session = new AvatarSession({
  tokenEndpoint: '/api/avatar/session',
  request: { language: 'en' },
  media: { video: document.createElement('video'), audio: document.createElement('audio') },
  language: 'en',
  sttModel: 'nova-2',
  endpointing: 400,
  utteranceEndMs: 1000,
  llm: el.llm,
});
session.on('error', (error) => {
  if (error instanceof MicrophoneError || error instanceof HeygenAvatarError) console.warn(error.type, error.recoverable);
});

// The server side.
const config: BrokerConfig = {
  liveavatar: { apiKey: 'key' },
  deepgram: { apiKey: 'key' },
  allowedOrigins: ['https://shop.example'],
};
const broker: SessionBroker = createSessionBroker(config);
const answer: Promise<Response> = broker.handle(new Request('https://shop.example/api/avatar/session', { method: 'POST' }));
// @ts-expect-error the broker needs a Deepgram key
createSessionBroker({ liveavatar: { apiKey: 'key' }, allowedOrigins: ['*'] });
export type { OfflineWorld, answer };
