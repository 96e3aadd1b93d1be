// LiveAvatar's wire facts (api.liveavatar.com, FULL mode): envelope codes, enums, the LiveKit
// room's names, the command and event shapes. Sources, in order: /work/shared/LIVEAVATAR.md, the
// official browser client @heygen/liveavatar-web-sdk 0.0.18, the OpenAPI pages on docs.liveavatar.com.

/** The public sandbox avatar "Wayne": the only one `is_sandbox: true` sessions may use. */
export const SANDBOX_AVATAR_ID = 'dd73ea75-1218-4ef3-92ce-606d5f7fbc0a';

/** The official client treats only this as success (the OpenAPI examples say 100). */
export const SUCCESS_CODE = 1000;

/**
 * Error answers: `{code, data: null, message}`. 4003 and 4000 are the service's, seen in production;
 * the rest are undocumented upstream, so these are the stand-in's own choices, numbered after their
 * HTTP status the way 4003 is (a client should key on the HTTP status for them).
 */
export const LIVEAVATAR_ERRORS = {
  unauthenticated: { status: 403, code: 4003, message: 'Not authenticated' },
  validation: { status: 422, code: 4000, message: 'Request validation errors.' },
  sessionNotFound: { status: 404, code: 4004, message: 'Session not found' },
  /** keep-alive or start on a session that has ended (or, for start, already started). */
  sessionNotActive: { status: 400, code: 4001, message: 'Session is not active' },
  /** Concurrency: 429 without Retry-After (the rate-limit fault below carries one). */
  concurrencyLimit: { status: 429, code: 4029, message: 'Concurrent session limit reached' },
  notFound: { status: 404, code: 4004, message: 'Not found' },
  methodNotAllowed: { status: 405, code: 4005, message: 'Method not allowed' },
  tooLarge: { status: 413, code: 4013, message: 'Request body too large' },
  rateLimited: { status: 429, code: 4029, message: 'Too many requests' },
  internal: { status: 500, code: 5000, message: 'Internal server error' },
} as const;

export type LiveAvatarErrorName = keyof typeof LIVEAVATAR_ERRORS;

/** `reason` of POST /v1/sessions/stop, and the `stop_reason`/`end_reason` of `session.stopped`. */
export const STOP_REASONS = [
  'UNKNOWN',
  'USER_DISCONNECTED',
  'SERVER_ERROR',
  'IDLE_TIMEOUT',
  'NO_CREDITS',
  'USER_CLOSED',
  'AVATAR_DELETED',
  'MAX_DURATION_REACHED',
  'ZOMBIE_SESSION_REAP',
  'AGENT_HANG_UP',
] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export const VIDEO_QUALITIES = ['very_high', 'high', 'medium', 'low'] as const;
export const VIDEO_ENCODINGS = ['VP8', 'H264'] as const;
export const INTERACTIVITY_TYPES = ['CONVERSATIONAL', 'PUSH_TO_TALK'] as const;

/** The room (FULL): the avatar's identity, the agent's prefix, and the data topics. */
export const AVATAR_IDENTITY = 'heygen';
export const AGENT_IDENTITY_PREFIX = 'liveavatar-agent-';
export const COMMAND_TOPIC = 'agent-control';
export const EVENT_TOPIC = 'agent-response';

/** A command on `agent-control`, as the official client sends it. */
export interface LiveAvatarCommand {
  event_id?: string;
  event_type: string;
  text?: string;
  [field: string]: unknown;
}

export type LiveAvatarEventType =
  | 'avatar.speak_started'
  | 'avatar.speak_ended'
  | 'avatar.transcription'
  | 'session.stopped';

/** An event on `agent-response`; `source_event_id` is the command's event_id (null when it had none). */
export interface LiveAvatarEvent {
  event_id: string;
  event_type: LiveAvatarEventType;
  session_id: string;
  source_event_id: string | null;
  text?: string;
  /** session.stopped: the official client reads `stop_reason`, the docs say `end_reason`; both are sent. */
  stop_reason?: StopReason;
  end_reason?: StopReason;
}

/** The `start_session_data` claim of the session token (the official client reads `.mode`). */
export interface StartSessionData {
  mode: 'FULL';
  avatar_id: string;
  avatar_persona: { voice_id?: string; context_id?: string; language: string; voice_settings?: { speed?: number } };
  is_sandbox: boolean;
  video_settings?: { quality?: string; encoding?: string };
  max_session_duration?: number;
  interactivity_type: string;
}

/** One avatar of the stand-in's catalog (AvatarSchema fields that matter offline). */
export interface LiveAvatarCatalogAvatar {
  id: string;
  name: string;
  /** Public avatars are listed by /v1/avatars/public, the account's own by /v1/avatars. */
  is_public: boolean;
  default_voice: { id: string; name: string };
}

export interface LiveAvatarVoice {
  id: string;
  name: string;
  language: string;
  gender: 'male' | 'female';
}

/** Voices: espeak-ng speaks all of them; the id picks nothing but must be known. */
export const DEFAULT_VOICES: LiveAvatarVoice[] = [
  { id: 'a5ef5a2e-4c5b-4f3c-9d0b-6b1f0e0c7a11', name: 'Offline Judy', language: 'en', gender: 'female' },
  { id: 'c2d7f1b4-8a6e-4e1a-b3f2-2f9a4e7d5c22', name: 'Offline Wayne', language: 'en', gender: 'male' },
  { id: 'e8b3c6d9-1f2a-4b7c-8e5d-3a6f9b2c4d33', name: 'Offline Olga', language: 'ru', gender: 'female' },
];

export const DEFAULT_AVATARS: LiveAvatarCatalogAvatar[] = [
  { id: SANDBOX_AVATAR_ID, name: 'Wayne', is_public: true, default_voice: { id: DEFAULT_VOICES[1].id, name: DEFAULT_VOICES[1].name } },
  { id: '0930fd59-c8ad-434d-ad53-b391a1768720', name: 'Judy', is_public: true, default_voice: { id: DEFAULT_VOICES[0].id, name: DEFAULT_VOICES[0].name } },
  { id: '7b6f2c1e-3d4a-4e5b-9c8d-1a2b3c4d5e6f', name: 'Offline Avatar', is_public: false, default_voice: { id: DEFAULT_VOICES[0].id, name: DEFAULT_VOICES[0].name } },
];

/** GET /v1/languages: `[{language (display name), code}]`; the codes espeak-ng speaks. */
export const LANGUAGES: { language: string; code: string }[] = [
  { language: 'English', code: 'en' },
  { language: 'Russian', code: 'ru' },
  { language: 'German', code: 'de' },
  { language: 'French', code: 'fr' },
  { language: 'Spanish', code: 'es' },
  { language: 'Italian', code: 'it' },
  { language: 'Portuguese', code: 'pt' },
  { language: 'Ukrainian', code: 'uk' },
  { language: 'Polish', code: 'pl' },
  { language: 'Dutch', code: 'nl' },
  { language: 'Chinese', code: 'zh' },
  { language: 'Japanese', code: 'ja' },
];
