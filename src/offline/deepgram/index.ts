// The offline Deepgram stand-in: live transcription (`/v1/listen`) and temporary tokens
// (`/v1/auth/grant`) on this machine, recognised against espeak-ng phrase lists. A dev tool
// shipped in the package (`heygen-avatar/dev`), not test code.
export { startDeepgramStandIn, phraseLists } from './server.js';
export { DEFAULT_PHRASES, extraPhrasesFrom } from './phrases.js';
export type { DeepgramStandIn, DeepgramStandInOptions, ListenRecord } from './server.js';
export { DEEPGRAM_ERRORS, CLOSE as DEEPGRAM_CLOSE, modelTakesLanguage } from './protocol.js';
export type {
  DeepgramErrorBody,
  ListenServerMessage,
  MetadataMessage,
  ModelInfo,
  ResultsMessage,
  ResultsWord,
  SpeechStartedMessage,
  UtteranceEndMessage,
} from './protocol.js';
