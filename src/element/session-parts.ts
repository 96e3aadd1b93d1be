// Everything a session needs beyond the element's shell, loaded on the first start() so the
// script a page loads up front stays small. livekit-client, the Deepgram client and the
// microphone worklet load from here in turn, in parallel.
export { HeygenStreamingAvatar } from '../avatar/heygen-streaming.js';
export { AvatarError } from '../avatar/provider.js';
export { loadLiveKit } from '../avatar/load-livekit.js';
export { loadMicrophone } from '../capture/load-microphone.js';
export { Conversation } from '../conversation/conversation.js';
export { LlmError, llmRoute } from '../conversation/llm.js';
export { DeepgramTranscriber } from '../transcriber/deepgram.js';
export { loadDeepgram } from '../transcriber/load-deepgram.js';
export { SessionEndpointError, refreshSttToken, reportSessionClosed, requestSession, startHeartbeat } from './session-client.js';
