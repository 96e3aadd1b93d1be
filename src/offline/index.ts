// The offline world, as a dev tool: stand-ins for HeyGen, LiveAvatar, Deepgram and the LLM, and a local LiveKit.
export { startOfflineWorld, OFFLINE_KEYS } from './world.js';
export type { OfflineWorld, OfflineWorldOptions } from './world.js';
export { startHeygenStandIn, HEYGEN_ERRORS } from './heygen/index.js';
export type { HeygenStandIn, HeygenStandInOptions, TaskRecord } from './heygen/index.js';
export { startLiveAvatarStandIn, LIVEAVATAR_ERRORS, SANDBOX_AVATAR_ID, STOP_REASONS } from './liveavatar/index.js';
export type { CommandRecord, LiveAvatarStandIn, LiveAvatarStandInOptions, SessionTokenRecord, StopReason } from './liveavatar/index.js';
export { startDeepgramStandIn, DEFAULT_PHRASES, extraPhrasesFrom } from './deepgram/index.js';
export type { DeepgramStandIn, DeepgramStandInOptions } from './deepgram/index.js';
export { startLlmStandIn } from './llm/index.js';
export type { LlmStandIn, LlmStandInOptions } from './llm/index.js';
export { FaultPlan } from './faults.js';
export type { Fault, FaultKind } from './faults.js';
