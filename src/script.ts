// Entry of the script-tag bundle: registers <heygen-avatar>; heavy parts load on first use.
import './element/define.js';
export { HeygenAvatar } from './element/heygen-avatar.js';
export { VERSION } from './version.js';
