export { HeygenAvatar } from './element/heygen-avatar.js';
export type * from './element/events.js';
export { VERSION } from './version.js';
