// How a session shows in the element, loaded with the session code on the first start (so it is
// not in the up-front script): the element's attributes and properties become the session's
// options, and the session's events become the element's DOM events and what it renders.
import type { AvatarMedia } from '../avatar/provider.js';
import type { LlmFunction } from '../conversation/llm.js';
import type { AvatarSession, AvatarSessionOptions } from '../session/avatar-session.js';
import type { TokenProvider } from '../session/session-client.js';
import type { HeygenAvatarError } from '../shared/errors.js';
import type { SessionRequest } from '../shared/contract.js';
import type { AvatarConfig } from './config.js';
import type { SessionController, SessionHost } from './session-controller.js';

/** The element's properties a session needs (beside the parsed attributes). */
export interface SessionSource {
  llm: LlmFunction | undefined;
  tokenProvider: TokenProvider | undefined;
  noBargeIn: boolean;
  pushToTalk: boolean;
  debug: boolean;
  systemPrompt: string | null;
  greeting: string | null;
}

/** What the session endpoint is asked for, from the configuration. */
export function sessionRequest(c: AvatarConfig): SessionRequest {
  const request: SessionRequest = { quality: c.quality, voiceRate: c.voiceRate, language: c.language, sttModel: c.sttModel };
  if (c.avatarId) request.avatarId = c.avatarId;
  if (c.voiceId) request.voiceId = c.voiceId;
  return request;
}

/** The session's options from the element's configuration and properties. */
export function sessionOptions(el: SessionSource, c: AvatarConfig, media: AvatarMedia, muted: boolean): AvatarSessionOptions {
  const llm = el.llm;
  return {
    request: sessionRequest(c),
    media,
    language: c.language,
    sttModel: c.sttModel,
    endpointing: c.endpointing,
    utteranceEndMs: c.utteranceEndMs,
    bargeIn: !el.noBargeIn,
    preemptive: c.preemptive,
    pushToTalk: el.pushToTalk,
    muted,
    debug: el.debug,
    ...(el.tokenProvider ? { tokenProvider: el.tokenProvider } : { tokenEndpoint: c.tokenEndpoint! }),
    // The property is read at each turn, so a page may swap its LLM mid-session.
    ...(llm ? { llm: (turn) => (el.llm ?? llm)(turn) } : {}),
    ...(c.llmEndpoint ? { llmEndpoint: c.llmEndpoint } : {}),
    ...(el.systemPrompt ? { systemPrompt: el.systemPrompt } : {}),
    ...(el.greeting ? { greeting: el.greeting } : {}),
  };
}

/** Turns the session's events into the element's DOM events and into what `view` shows. */
export function bindSession(session: AvatarSession, view: SessionController, host: SessionHost): void {
  const t = () => host.strings;
  session.on('state', (state) => {
    // The session is over: the next start() makes a new one.
    if (state === 'ended' || state === 'error') {
      view.lastHistory = session.history;
      view.session = undefined;
      view.set({ level: 0, hasMic: false, soundBlocked: false });
    }
    view.setState(state);
  });
  session.on('error', (error: HeygenAvatarError & { reason?: string }, fatal) => {
    // A failure that ends the session shows on the stage, whatever its own `recoverable` says.
    const detail = { type: error.type, message: error.message, recoverable: error.recoverable, cause: error };
    view.report(error.reason ? { ...detail, reason: error.reason } : detail, fatal ? 'stage' : 'notice');
  });
  session.on('transcript', (text, final) => {
    if (!final) view.caption('user', text, true);
    host.emit('heygen-avatar:transcript', { text, final });
  });
  session.on('turn', (text, source) => {
    view.caption('user', text, false);
    host.emit('heygen-avatar:turn', { text, source });
    view.set({ notice: '' });
  });
  session.on('said', (text) => view.caption('avatar', text, false));
  session.on('replyDelta', (delta, text) => {
    view.caption('avatar', text, true);
    host.emit('heygen-avatar:reply-delta', { delta, text });
  });
  session.on('reply', (text, interrupted) => {
    if (text) view.caption('avatar', text, false);
    host.emit('heygen-avatar:reply', { text, interrupted });
  });
  session.on('talking', (talking) => host.emit('heygen-avatar:talking', { talking }));
  session.on('metrics', (metrics) => host.emit('heygen-avatar:metrics', metrics));
  session.on('started', (sessionId) => host.emit('heygen-avatar:session-start', { sessionId }));
  session.on('level', (level) => view.set({ level }));
  session.on('microphone', (hasMic) => view.set({ hasMic }));
  session.on('audioBlocked', (soundBlocked) => view.set({ soundBlocked }));
  session.on('connection', (state) => {
    const reconnecting = t().states.connecting;
    if (state === 'reconnecting') view.set({ notice: reconnecting });
    else if (state === 'connected' && view.notice === reconnecting) view.set({ notice: '' });
  });
  session.on('endingSoon', (seconds) => view.set({ notice: t().endingSoon(seconds) }));
  session.on('ended', (sessionId, reason, history) => {
    if (reason === 'duration-limit') view.set({ fatal: t().timeUp });
    host.emit('heygen-avatar:session-end', { sessionId, reason, history });
  });
}
