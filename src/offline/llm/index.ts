// The offline LLM stand-in: Gemini- (`/v1beta/models/{model}:streamGenerateContent?alt=sse`,
// `:generateContent`) and OpenAI-compatible (`/v1/chat/completions`) endpoints with deterministic
// replies and a configurable clock, for development without keys and for latency benchmarks.
// A dev tool shipped in the package (`heygen-avatar/dev`), not test code.
//
// Control routes, for tests and browsers driving it over HTTP:
//   POST /_config {ttftMs?, tokensPerSecond?, replies?: [{match: string | {regex, flags?}, reply}]}
//   GET  /_config                the current settings
//   GET  /_calls                 {calls: LlmCall[]}
//   POST|GET|DELETE /_faults     see ../faults.ts
export { startLlmStandIn, LLM_BODY_LIMIT_BYTES } from './server.js';
export type { LlmCall, LlmStandIn, LlmStandInOptions } from './server.js';
export { BUILT_IN_REPLIES, defaultReply, questionLanguage } from './replies.js';
export type { ScriptedReply, ScriptedReplyJson } from './replies.js';
export { splitTokens } from './protocol.js';
export type { ChatMessage } from './protocol.js';
export type { GeminiErrorBody, GenerateContentResponse } from './gemini.js';
export type { ChatCompletion, ChatCompletionChunk, OpenAiErrorBody, OpenAiUsage } from './openai.js';
