export { startLiveAvatarStandIn } from './server.js';
export type { CommandRecord, LiveAvatarStandIn, LiveAvatarStandInOptions, SessionTokenRecord } from './server.js';
export { LIVEAVATAR_ERRORS, SANDBOX_AVATAR_ID, STOP_REASONS } from './protocol.js';
export type { LiveAvatarCatalogAvatar, LiveAvatarCommand, LiveAvatarEvent, LiveAvatarVoice, StopReason } from './protocol.js';
