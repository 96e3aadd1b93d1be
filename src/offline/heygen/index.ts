export { startHeygenStandIn, HEYGEN_ERRORS } from './server.js';
export type { HeygenStandIn, HeygenStandInOptions, StandInAvatar, TaskRecord } from './server.js';
export type { AvatarDataMessage } from './synthetic-avatar.js';
