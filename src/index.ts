// The npm entry: the element class, the session layer for pages that render their own UI, the
// avatar-provider seam, the widget's errors and every public type. `heygen-avatar/define`
// registers the tag.
export { HeygenAvatar } from './element/heygen-avatar.js';
export type * from './element/events.js';
export type { UiStrings } from './element/strings.js';
export { AvatarSession } from './session/avatar-session.js';
export type { AvatarSessionEvents, AvatarSessionOptions, SessionEndReason, SessionState } from './session/avatar-session.js';
export type { TokenProvider } from './session/session-client.js';
export { avatarProviders, registerAvatarProvider } from './avatar/registry.js';
export type { AvatarMedia, AvatarProvider, AvatarProviderEvents, AvatarProviderModule, SpeakResult } from './avatar/provider.js';
export * from './shared/errors.js';
export type * from './shared/contract.js';
export type { ChatMessage, LlmFunction, LlmResult, LlmTurn } from './conversation/llm.js';
export type { TurnMetrics } from './conversation/turn-metrics.js';
export { VERSION } from './version.js';
