// The broker's configuration: the options object `createSessionBroker` takes, its defaults and
// checks, and the same read from environment variables (`configFromEnv`) for the CLI.
import type { SessionRequest } from '../shared/contract.js';
import { isLogLevel, jsonLineLogger, type BrokerLogger, type LogLevel } from './log.js';
import { checkRedisUrl } from './redis-store.js';
import type { SessionStore } from './store.js';
import type { AvatarUpstream } from './upstreams/avatar-upstream.js';
import { LIVEAVATAR_API_BASE, LIVEAVATAR_SANDBOX_AVATAR_ID } from './upstreams/liveavatar.js';

export interface RateLimit {
  /** Sustained requests per minute per client. */
  perMinute: number;
  /** Requests allowed at once before the sustained rate applies. */
  burst: number;
}

export interface LlmRouteConfig {
  provider: 'gemini' | 'openai';
  apiKey: string;
  /** Default https://generativelanguage.googleapis.com (Gemini) or https://api.openai.com (OpenAI). */
  apiBase?: string;
  /** Default `gemini-2.5-flash` or `gpt-4o-mini`. */
  model?: string;
  /** The operator's instructions, sent as the system prompt of every turn. */
  systemPrompt?: string;
  /** Only the latest N messages of the history are sent; default 20. */
  maxHistoryMessages?: number;
  /** Longest user message in characters (longer: 400); older messages are cut to this; default 2000. */
  maxMessageChars?: number;
  /** Upper bound of the reply length in tokens; default 512. */
  maxOutputTokens?: number;
  /** ms to wait for the upstream's answer headers; default 20 000. */
  timeoutMs?: number;
}

/** The avatar services the broker ships. */
export type AvatarProvider = 'liveavatar' | 'heygen-streaming';

export interface LiveAvatarConfig {
  /** The LiveAvatar API key (app.liveavatar.com; HeyGen keys do not work there). */
  apiKey: string;
  /** Default https://api.liveavatar.com */
  apiBase?: string;
  /**
   * Sandbox sessions (`is_sandbox`): no credits, about a minute each, and only the avatar "Wayne"
   * (`LIVEAVATAR_SANDBOX_AVATAR_ID`), which is also the default when `avatarIds` is empty. Default false.
   */
  sandbox?: boolean;
}

export interface BrokerConfig {
  /**
   * Which shipped avatar service runs the sessions. Default: `liveavatar` when `liveavatar` is
   * given, else `heygen-streaming`. Not used when `avatarUpstream` is given.
   */
  avatarProvider?: AvatarProvider;
  /** LiveAvatar (`api.liveavatar.com`), the avatar service for new accounts. */
  liveavatar?: LiveAvatarConfig;
  /** HeyGen's streaming avatar API (`api.heygen.com/v1/streaming.*`), for accounts that still have it. */
  heygen?: { apiKey: string; /** Default https://api.heygen.com */ apiBase?: string };
  /** An avatar service of your own (docs/broker.md, "Adding an avatar service"); `liveavatar` and `heygen` are then not used. */
  avatarUpstream?: AvatarUpstream;
  deepgram: {
    apiKey: string;
    /** Default https://api.deepgram.com */
    apiBase?: string;
    /** Lifetime of each temporary STT token in seconds (it only needs to outlive opening a socket); default 30. */
    tokenTtlSeconds?: number;
  };
  /**
   * Deepgram tokens one session may get in all, the one in the session answer included; default
   * 20. Each can open a transcription stream that Deepgram keeps open after the session ends
   * (docs/broker.md, "Running it safely"); the widget needs one per reconnection.
   */
  sttTokensPerSession?: number;
  /** The default LLM route (`POST {basePath}/llm`); absent: no route, the page brings its own LLM. */
  llm?: LlmRouteConfig;

  /**
   * Avatars the browser may ask for; the first is the default. Required, except for LiveAvatar's
   * sandbox (its one avatar). LiveAvatar's avatar ids are UUIDs.
   */
  avatarIds?: string[];
  /** Voices the browser may ask for; absent: any well-formed voice id. */
  voiceIds?: string[];
  /** Languages the browser may ask for (BCP-47; `en` also admits `en-US`). Default: a list Deepgram nova-2 and HeyGen both speak. */
  languages?: string[];
  /** Default `ru` (the seed's) when the language list has it, else the list's first. */
  defaultLanguage?: string;
  /** STT models the browser may ask for; default `nova-2`, `nova-3`. */
  sttModels?: string[];
  /** Default `medium`. */
  defaultQuality?: NonNullable<SessionRequest['quality']>;

  /** Where the routes live; default `/api/avatar`. */
  basePath?: string;
  /** Origin the browser reaches the broker at (for the URLs in the session answer); default: the request's. */
  publicUrl?: string;

  /** Exact origins (`https://shop.example`) allowed to call the broker; `['*']` allows any. */
  allowedOrigins: string[];
  /**
   * Also allow a page served from the broker's own origin: `publicUrl`'s, or without it the
   * request's when its host is an IP address or `localhost` (a host name in the Host header is
   * the client's word). Default false: list your pages' origins in `allowedOrigins`.
   */
  allowSameOrigin?: boolean;
  /** Allow requests without an `Origin` header (server-to-server); default false. */
  allowNoOrigin?: boolean;
  /**
   * Where the client address comes from behind proxies: a number N means `X-Forwarded-For` with N
   * trusted proxies in front (the N-th address from the right); a header name (`x-real-ip`,
   * `cf-connecting-ip`) means that header, which the proxy must set (not append to).
   * `x-forwarded-for` and `forwarded` are refused as header names (their first address is the
   * client's own word). Default false: the connection's address.
   */
  trustProxy?: false | number | string;
  /** The client address of a request, for runtimes where it is not in the request (see docs/broker.md). */
  getClientIp?: (req: Request) => string | undefined;

  /** Sessions open at once (all clients, all instances sharing the store); default 10. */
  maxSessions?: number;
  /** Sessions open at once per client; default 2. */
  maxSessionsPerClient?: number;
  /** Longest session in seconds (the avatar service's own limit may be lower); default 600. */
  maxSessionSeconds?: number;
  /** Idle timeout the avatar service gets (HeyGen `activity_idle_timeout`, 30–3600 s); default 120. */
  idleTimeoutSeconds?: number;
  /** A session without a sign of life (heartbeat, STT refresh, LLM call) for this long is closed; default 60. */
  abandonAfterSeconds?: number;
  /** ms between reaper runs; default 5000; 0 disables the timer (call `reapNow()`). */
  reapIntervalMs?: number;
  /**
   * Whose the avatar service account is. `shared` (default): other apps may run sessions on it, so
   * the reaper stops only open sessions it knows the broker created. `dedicated`: the account is
   * the broker's alone, so the reaper stops every open session no record holds (after a grace
   * period): that also finds the sessions of a broker that was killed with the in-memory store.
   */
  avatarAccount?: 'shared' | 'dedicated';
  /** ms between the reaper's comparisons of the service's open sessions with the records; default 60 000; 0: none on a timer. */
  reconcileIntervalMs?: number;

  rateLimits?: {
    /** `POST /session`, per client; default 10/min, burst 5. */
    session?: RateLimit;
    /** `POST /llm`, per client; default 60/min, burst 20. */
    llm?: RateLimit;
    /** `POST /session/stt-token`, per session; default 6/min, burst 5 (a reconnection takes up to 4 in a few seconds). */
    sttToken?: RateLimit;
  };
  /** Largest request body of the session routes in bytes; default 16 KiB. */
  maxBodyBytes?: number;
  /** Largest `POST /llm` body in bytes; default 64 KiB. */
  maxLlmBodyBytes?: number;
  /** ms each avatar service/Deepgram call may take; default 10 000. */
  upstreamTimeoutMs?: number;

  /** Session store; default: `RedisStore` when `redisUrl` is set, else `MemoryStore`. */
  store?: SessionStore;
  redisUrl?: string;
  /** Key prefix in Redis; default `heygen-avatar:`. */
  redisPrefix?: string;

  /** Receives every log event; default JSON lines on stdout/stderr at `logLevel`. */
  logger?: BrokerLogger;
  logLevel?: LogLevel;
  /** Clock (ms); for tests. */
  now?: () => number;
}

/** The configuration with every default filled in. */
export interface ResolvedBrokerConfig {
  /** The shipped avatar service in use; absent when `avatarUpstream` is given. */
  avatarProvider?: AvatarProvider;
  /** Set when the avatar service is LiveAvatar. */
  liveavatar?: Required<LiveAvatarConfig>;
  /** Set when the avatar service is HeyGen streaming. */
  heygen?: { apiKey: string; apiBase: string };
  avatarUpstream?: AvatarUpstream;
  deepgram: { apiKey: string; apiBase: string; tokenTtlSeconds: number };
  sttTokensPerSession: number;
  llm?: Required<Omit<LlmRouteConfig, 'systemPrompt'>> & { systemPrompt?: string };
  avatarIds: string[];
  voiceIds?: string[];
  languages: string[];
  defaultLanguage: string;
  sttModels: string[];
  defaultQuality: NonNullable<SessionRequest['quality']>;
  basePath: string;
  publicUrl?: string;
  allowedOrigins: string[];
  allowAnyOrigin: boolean;
  allowSameOrigin: boolean;
  allowNoOrigin: boolean;
  trustProxy: false | number | string;
  getClientIp?: (req: Request) => string | undefined;
  maxSessions: number;
  maxSessionsPerClient: number;
  maxSessionSeconds: number;
  idleTimeoutSeconds: number;
  abandonAfterSeconds: number;
  reapIntervalMs: number;
  avatarAccount: 'shared' | 'dedicated';
  reconcileIntervalMs: number;
  rateLimits: { session: RateLimit; llm: RateLimit; sttToken: RateLimit };
  maxBodyBytes: number;
  maxLlmBodyBytes: number;
  upstreamTimeoutMs: number;
  store?: SessionStore;
  redisUrl?: string;
  redisPrefix: string;
  logger: BrokerLogger;
  now: () => number;
}

/** A configuration mistake, with every problem found (one per line). */
export class BrokerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`heygen-avatar broker configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'BrokerConfigError';
  }
}

/** Languages Deepgram nova-2 transcribes and HeyGen voices speak. */
export const DEFAULT_LANGUAGES = [
  'bg', 'ca', 'cs', 'da', 'de', 'el', 'en', 'es', 'et', 'fi', 'fr', 'hi', 'hu', 'id', 'it', 'ja', 'ko', 'lt', 'lv',
  'ms', 'nl', 'no', 'pl', 'pt', 'ro', 'ru', 'sk', 'sv', 'th', 'tr', 'uk', 'vi', 'zh',
];

export const DEFAULT_STT_MODELS = ['nova-2', 'nova-3'];

export const BCP47 = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const QUALITIES = ['low', 'medium', 'high'] as const;

/** Fills defaults and checks everything; throws a BrokerConfigError listing every problem. */
export function resolveConfig(config: BrokerConfig): ResolvedBrokerConfig {
  const problems: string[] = [];
  const need = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const url = (value: string | undefined, fallback: string, name: string): string => {
    const v = (value ?? fallback).replace(/\/+$/, '');
    try {
      const u = new URL(v);
      need(u.protocol === 'http:' || u.protocol === 'https:', `${name} must be an http(s) URL, got ${JSON.stringify(v)}`);
    } catch {
      problems.push(`${name} is not a URL: ${JSON.stringify(v)}`);
    }
    return v;
  };
  const int = (value: number | undefined, fallback: number, name: string, min: number, max: number): number => {
    const v = value ?? fallback;
    need(Number.isInteger(v) && v >= min && v <= max, `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return v;
  };
  const rate = (value: RateLimit | undefined, fallback: RateLimit, name: string): RateLimit => {
    const v = value ?? fallback;
    need(Number.isFinite(v.perMinute) && v.perMinute > 0, `${name}.perMinute must be a positive number`);
    need(Number.isInteger(v.burst) && v.burst >= 1, `${name}.burst must be an integer ≥ 1`);
    return { perMinute: v.perMinute, burst: v.burst };
  };

  const upstream = config.avatarUpstream;
  let avatarProvider: AvatarProvider | undefined;
  let liveavatar: ResolvedBrokerConfig['liveavatar'];
  let heygen: ResolvedBrokerConfig['heygen'];
  if (upstream) {
    need(typeof upstream.provider === 'string' && upstream.provider.length > 0, 'avatarUpstream.provider must name the avatar service');
    need(Array.isArray(upstream.secrets), 'avatarUpstream.secrets must list the credentials it holds (an empty list when none)');
    for (const m of ['create', 'stop', 'keepAlive', 'listOpen'] as const) need(typeof upstream[m] === 'function', `avatarUpstream.${m} must be a function`);
  } else {
    avatarProvider = config.avatarProvider ?? (config.liveavatar ? 'liveavatar' : config.heygen ? 'heygen-streaming' : undefined);
    if (avatarProvider === 'liveavatar') {
      need(typeof config.liveavatar?.apiKey === 'string' && config.liveavatar.apiKey.length > 0, 'the LiveAvatar API key is missing (LIVEAVATAR_API_KEY)');
      liveavatar = {
        apiKey: config.liveavatar?.apiKey as string,
        apiBase: url(config.liveavatar?.apiBase, LIVEAVATAR_API_BASE, 'the LiveAvatar API base (LIVEAVATAR_API_BASE)'),
        sandbox: config.liveavatar?.sandbox ?? false,
      };
    } else if (avatarProvider === 'heygen-streaming') {
      need(typeof config.heygen?.apiKey === 'string' && config.heygen.apiKey.length > 0, 'the HeyGen API key is missing (HEYGEN_API_KEY)');
      heygen = { apiKey: config.heygen?.apiKey as string, apiBase: url(config.heygen?.apiBase, 'https://api.heygen.com', 'the HeyGen API base (HEYGEN_API_BASE)') };
    } else if (config.avatarProvider === undefined) {
      problems.push('no avatar service is configured: set LIVEAVATAR_API_KEY (LiveAvatar, new accounts at app.liveavatar.com) or HEYGEN_API_KEY (HeyGen streaming)');
    } else {
      problems.push(`avatarProvider (AVATAR_PROVIDER) must be liveavatar or heygen-streaming, got ${JSON.stringify(config.avatarProvider)}`);
    }
  }
  need(typeof config.deepgram?.apiKey === 'string' && config.deepgram.apiKey.length > 0, 'the Deepgram API key is missing (DEEPGRAM_API_KEY)');
  const deepgramBase = url(config.deepgram?.apiBase, 'https://api.deepgram.com', 'the Deepgram API base (DEEPGRAM_API_BASE)');
  const tokenTtlSeconds = int(config.deepgram?.tokenTtlSeconds, 30, 'deepgram.tokenTtlSeconds (STT_TOKEN_TTL_SECONDS)', 1, 3600);

  let llm: ResolvedBrokerConfig['llm'];
  if (config.llm) {
    const l = config.llm;
    need(l.provider === 'gemini' || l.provider === 'openai', `llm.provider must be gemini or openai, got ${JSON.stringify(l.provider)}`);
    need(typeof l.apiKey === 'string' && l.apiKey.length > 0, 'llm.apiKey is missing (GEMINI_API_KEY or OPENAI_API_KEY)');
    const gemini = l.provider === 'gemini';
    const model = l.model ?? (gemini ? 'gemini-2.5-flash' : 'gpt-4o-mini');
    need(/^[A-Za-z0-9._:/-]{1,100}$/.test(model), `llm.model (LLM_MODEL) is not a model name: ${JSON.stringify(model)}`);
    llm = {
      provider: l.provider,
      apiKey: l.apiKey,
      apiBase: url(l.apiBase, gemini ? 'https://generativelanguage.googleapis.com' : 'https://api.openai.com', gemini ? 'GEMINI_API_BASE' : 'OPENAI_API_BASE'),
      model,
      ...(l.systemPrompt ? { systemPrompt: l.systemPrompt } : {}),
      maxHistoryMessages: int(l.maxHistoryMessages, 20, 'llm.maxHistoryMessages (LLM_MAX_HISTORY_MESSAGES)', 1, 500),
      maxMessageChars: int(l.maxMessageChars, 2000, 'llm.maxMessageChars (LLM_MAX_MESSAGE_CHARS)', 1, 100_000),
      maxOutputTokens: int(l.maxOutputTokens, 512, 'llm.maxOutputTokens (LLM_MAX_OUTPUT_TOKENS)', 1, 65_536),
      timeoutMs: int(l.timeoutMs, 20_000, 'llm.timeoutMs', 100, 600_000),
    };
  }

  const avatarIds = config.avatarIds?.length ? config.avatarIds : liveavatar?.sandbox ? [LIVEAVATAR_SANDBOX_AVATAR_ID] : [];
  need(Array.isArray(avatarIds) && avatarIds.length > 0, 'no avatar is allowed: list at least one avatar id (AVATAR_IDS)');
  for (const a of avatarIds) need(ID.test(a), `avatar id ${JSON.stringify(a)} has characters an avatar id cannot have`);
  if (liveavatar) {
    // The usual mistake when moving from HeyGen streaming: its avatar ids (`Anna_public_3`) are not LiveAvatar's.
    for (const a of avatarIds.filter((id) => ID.test(id) && !UUID.test(id))) {
      problems.push(`avatar id ${JSON.stringify(a)} is not a LiveAvatar avatar id (a UUID; HeyGen streaming avatar ids do not work with LiveAvatar) (AVATAR_IDS)`);
    }
    const others = avatarIds.filter((id) => id !== LIVEAVATAR_SANDBOX_AVATAR_ID);
    need(
      !liveavatar.sandbox || others.length === 0,
      `LiveAvatar's sandbox (LIVEAVATAR_SANDBOX) works only with its avatar "Wayne" (${LIVEAVATAR_SANDBOX_AVATAR_ID}): leave AVATAR_IDS empty or list only that one, not ${others.map((id) => JSON.stringify(id)).join(', ')}`,
    );
  }
  if (config.voiceIds) for (const v of config.voiceIds) need(ID.test(v), `voice id ${JSON.stringify(v)} has characters a voice id cannot have`);
  const languages = config.languages ?? DEFAULT_LANGUAGES;
  need(languages.length > 0, 'the language list (LANGUAGES) is empty');
  for (const l of languages) need(BCP47.test(l), `language ${JSON.stringify(l)} is not a BCP-47 tag`);
  const defaultLanguage = config.defaultLanguage ?? (languageAllowed('ru', languages) || !languages[0] ? 'ru' : languages[0]);
  need(languageAllowed(defaultLanguage, languages), `the default language ${JSON.stringify(defaultLanguage)} (DEFAULT_LANGUAGE) is not in the language list`);
  const sttModels = config.sttModels ?? DEFAULT_STT_MODELS;
  for (const m of sttModels) need(/^[A-Za-z0-9._-]{1,64}$/.test(m), `STT model ${JSON.stringify(m)} is not a model name`);
  const defaultQuality = config.defaultQuality ?? 'medium';
  need(QUALITIES.includes(defaultQuality), `defaultQuality must be low, medium or high`);

  const basePath = `/${(config.basePath ?? '/api/avatar').replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  need(/^(\/[A-Za-z0-9._~-]+)*$/.test(basePath), `basePath (BASE_PATH) must look like /api/avatar, got ${JSON.stringify(config.basePath)}`);
  let publicUrl: string | undefined;
  if (config.publicUrl) {
    publicUrl = url(config.publicUrl, '', 'publicUrl (PUBLIC_URL)');
    try {
      publicUrl = new URL(publicUrl).origin;
    } catch {
      // reported above
    }
  }

  const origins = config.allowedOrigins ?? [];
  need(Array.isArray(origins) && origins.length > 0, 'no origin is allowed: list the sites that embed the widget (ALLOWED_ORIGINS, e.g. https://shop.example), or * for any');
  const allowAnyOrigin = origins.includes('*');
  const allowedOrigins: string[] = [];
  for (const o of origins) {
    if (o === '*') continue;
    try {
      const u = new URL(o);
      need(u.origin === o.replace(/\/$/, '') && (u.protocol === 'http:' || u.protocol === 'https:'), `allowed origin ${JSON.stringify(o)} must be scheme://host[:port] with nothing after it`);
      allowedOrigins.push(u.origin);
    } catch {
      problems.push(`allowed origin ${JSON.stringify(o)} is not an origin (https://host[:port])`);
    }
  }

  const trustProxy = config.trustProxy ?? false;
  need(
    trustProxy === false || (typeof trustProxy === 'number' && Number.isInteger(trustProxy) && trustProxy >= 1 && trustProxy <= 10) || (typeof trustProxy === 'string' && /^[A-Za-z0-9-]+$/.test(trustProxy)),
    `trustProxy (TRUST_PROXY) must be false, a number of proxies (1–10) or a header name, got ${JSON.stringify(trustProxy)}`,
  );
  // A header name is read as one address, its first: in these two that is whatever the client wrote
  // (each proxy appends what it saw), so one client could be any number of clients.
  need(
    !(typeof trustProxy === 'string' && ['x-forwarded-for', 'forwarded'].includes(trustProxy.toLowerCase())),
    `trustProxy (TRUST_PROXY=${String(trustProxy).toLowerCase()}) cannot be trusted as a header name: its first address is whatever the client wrote; give the number of proxies in front of the broker instead (e.g. 1), which reads X-Forwarded-For from the right`,
  );

  const avatarAccount = config.avatarAccount ?? 'shared';
  need(avatarAccount === 'shared' || avatarAccount === 'dedicated', `avatarAccount (AVATAR_ACCOUNT) must be shared or dedicated, got ${JSON.stringify(config.avatarAccount)}`);
  const maxSessions = int(config.maxSessions, 10, 'maxSessions (MAX_SESSIONS)', 1, 1_000_000);
  const maxSessionsPerClient = int(config.maxSessionsPerClient, 2, 'maxSessionsPerClient (MAX_SESSIONS_PER_CLIENT)', 1, 1_000_000);
  if (config.redisUrl) {
    try {
      checkRedisUrl(config.redisUrl);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }

  const resolved: ResolvedBrokerConfig = {
    ...(upstream ? { avatarUpstream: upstream } : {}),
    ...(avatarProvider ? { avatarProvider } : {}),
    ...(liveavatar ? { liveavatar } : {}),
    ...(heygen ? { heygen } : {}),
    deepgram: { apiKey: config.deepgram?.apiKey, apiBase: deepgramBase, tokenTtlSeconds },
    sttTokensPerSession: int(config.sttTokensPerSession, 20, 'sttTokensPerSession (STT_TOKENS_PER_SESSION)', 1, 10_000),
    ...(llm ? { llm } : {}),
    avatarIds: [...avatarIds],
    ...(config.voiceIds ? { voiceIds: [...config.voiceIds] } : {}),
    languages: [...languages],
    defaultLanguage,
    sttModels: [...sttModels],
    defaultQuality,
    basePath,
    ...(publicUrl ? { publicUrl } : {}),
    allowedOrigins,
    allowAnyOrigin,
    allowSameOrigin: config.allowSameOrigin ?? false,
    allowNoOrigin: config.allowNoOrigin ?? false,
    trustProxy,
    ...(config.getClientIp ? { getClientIp: config.getClientIp } : {}),
    maxSessions,
    maxSessionsPerClient,
    maxSessionSeconds: int(config.maxSessionSeconds, 600, 'maxSessionSeconds (MAX_SESSION_SECONDS)', 10, 86_400),
    idleTimeoutSeconds: int(config.idleTimeoutSeconds, 120, 'idleTimeoutSeconds (IDLE_TIMEOUT_SECONDS)', 30, 3600),
    abandonAfterSeconds: int(config.abandonAfterSeconds, 60, 'abandonAfterSeconds (ABANDON_AFTER_SECONDS)', 1, 86_400),
    reapIntervalMs: int(config.reapIntervalMs, 5000, 'reapIntervalMs (REAP_INTERVAL_SECONDS)', 0, 3_600_000),
    avatarAccount,
    reconcileIntervalMs: int(config.reconcileIntervalMs, 60_000, 'reconcileIntervalMs (RECONCILE_INTERVAL_SECONDS)', 0, 86_400_000),
    rateLimits: {
      session: rate(config.rateLimits?.session, { perMinute: 10, burst: 5 }, 'rateLimits.session'),
      llm: rate(config.rateLimits?.llm, { perMinute: 60, burst: 20 }, 'rateLimits.llm'),
      sttToken: rate(config.rateLimits?.sttToken, { perMinute: 6, burst: 5 }, 'rateLimits.sttToken'),
    },
    maxBodyBytes: int(config.maxBodyBytes, 16 * 1024, 'maxBodyBytes (MAX_BODY_BYTES)', 256, 1024 * 1024),
    maxLlmBodyBytes: int(config.maxLlmBodyBytes, 64 * 1024, 'maxLlmBodyBytes (MAX_LLM_BODY_BYTES)', 256, 16 * 1024 * 1024),
    upstreamTimeoutMs: int(config.upstreamTimeoutMs, 10_000, 'upstreamTimeoutMs (UPSTREAM_TIMEOUT_MS)', 100, 120_000),
    ...(config.store ? { store: config.store } : {}),
    ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
    redisPrefix: config.redisPrefix ?? 'heygen-avatar:',
    logger: config.logger ?? jsonLineLogger(config.logLevel ?? 'info'),
    now: config.now ?? Date.now,
  };
  if (problems.length) throw new BrokerConfigError(problems);
  return resolved;
}

/** True when `tag` is listed, or its primary language is (`en` admits `en-US`); case-insensitive. */
export function languageAllowed(tag: string, list: readonly string[]): boolean {
  const t = tag.toLowerCase();
  const primary = t.split('-')[0];
  return list.some((l) => {
    const x = l.toLowerCase();
    return x === t || x === primary;
  });
}

/** What the CLI needs beyond the broker's configuration. */
export interface ServerSettings {
  port: number;
  host: string;
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
}

type Env = Record<string, string | undefined>;

/**
 * Reads the broker's configuration from environment variables (see docs/broker.md for the table).
 * Throws a BrokerConfigError listing every missing or malformed variable.
 */
export function configFromEnv(env: Env = process.env): { config: BrokerConfig; server: ServerSettings } {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const list = (name: string): string[] | undefined =>
    str(name)
      ?.split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
  const num = (name: string): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) {
      problems.push(`${name} must be a number, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return n;
  };
  const bool = (name: string): boolean | undefined => {
    const v = str(name)?.toLowerCase();
    if (v === undefined) return undefined;
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    problems.push(`${name} must be true or false, got ${JSON.stringify(str(name))}`);
    return undefined;
  };
  const rate = (prefix: string): RateLimit | undefined => {
    const perMinute = num(`RATE_LIMIT_${prefix}_PER_MINUTE`);
    const burst = num(`RATE_LIMIT_${prefix}_BURST`);
    if (perMinute === undefined && burst === undefined) return undefined;
    const defaults = { SESSIONS: { perMinute: 10, burst: 5 }, LLM: { perMinute: 60, burst: 20 }, STT_TOKEN: { perMinute: 6, burst: 5 } }[prefix]!;
    return { perMinute: perMinute ?? defaults.perMinute, burst: burst ?? defaults.burst };
  };

  // The avatar service: AVATAR_PROVIDER when set; else LiveAvatar when its key is set (even beside
  // a HeyGen key: it is what accounts made today have), else HeyGen streaming when its key is set.
  const liveavatarKey = str('LIVEAVATAR_API_KEY');
  const heygenKey = str('HEYGEN_API_KEY');
  const avatarProviderEnv = str('AVATAR_PROVIDER')?.toLowerCase();
  let avatarProvider: AvatarProvider | undefined;
  if (avatarProviderEnv === 'liveavatar' || avatarProviderEnv === 'heygen-streaming') {
    avatarProvider = avatarProviderEnv;
  } else {
    if (avatarProviderEnv) problems.push(`AVATAR_PROVIDER must be liveavatar or heygen-streaming, got ${JSON.stringify(avatarProviderEnv)}`);
    avatarProvider = liveavatarKey ? 'liveavatar' : heygenKey ? 'heygen-streaming' : undefined;
  }
  const sandbox = bool('LIVEAVATAR_SANDBOX');
  if (sandbox && avatarProvider === 'heygen-streaming') {
    problems.push('LIVEAVATAR_SANDBOX is set but the avatar service is HeyGen streaming (AVATAR_PROVIDER, or no LIVEAVATAR_API_KEY): set LIVEAVATAR_API_KEY or drop LIVEAVATAR_SANDBOX');
  }

  const gemini = str('GEMINI_API_KEY');
  const openai = str('OPENAI_API_KEY');
  const providerEnv = str('LLM_PROVIDER')?.toLowerCase();
  if (providerEnv && !['gemini', 'openai', 'none'].includes(providerEnv)) problems.push(`LLM_PROVIDER must be gemini, openai or none, got ${JSON.stringify(providerEnv)}`);
  let provider: 'gemini' | 'openai' | undefined;
  if (providerEnv === 'gemini' || providerEnv === 'openai') {
    provider = providerEnv;
    if (!(provider === 'gemini' ? gemini : openai)) problems.push(`LLM_PROVIDER=${provider} but ${provider === 'gemini' ? 'GEMINI_API_KEY' : 'OPENAI_API_KEY'} is not set`);
  } else if (providerEnv !== 'none') {
    provider = gemini ? 'gemini' : openai ? 'openai' : undefined;
  }
  let llm: LlmRouteConfig | undefined;
  if (provider) {
    llm = {
      provider,
      apiKey: (provider === 'gemini' ? gemini : openai) ?? '',
      ...(str(provider === 'gemini' ? 'GEMINI_API_BASE' : 'OPENAI_API_BASE') ? { apiBase: str(provider === 'gemini' ? 'GEMINI_API_BASE' : 'OPENAI_API_BASE') } : {}),
      ...(str('LLM_MODEL') ? { model: str('LLM_MODEL') } : {}),
      ...(str('SYSTEM_PROMPT') ? { systemPrompt: str('SYSTEM_PROMPT') } : {}),
      ...(num('LLM_MAX_HISTORY_MESSAGES') !== undefined ? { maxHistoryMessages: num('LLM_MAX_HISTORY_MESSAGES') } : {}),
      ...(num('LLM_MAX_MESSAGE_CHARS') !== undefined ? { maxMessageChars: num('LLM_MAX_MESSAGE_CHARS') } : {}),
      ...(num('LLM_MAX_OUTPUT_TOKENS') !== undefined ? { maxOutputTokens: num('LLM_MAX_OUTPUT_TOKENS') } : {}),
    };
  }

  let trustProxy: false | number | string | undefined;
  const tp = str('TRUST_PROXY');
  if (tp !== undefined) {
    if (/^(false|0|no|off)$/i.test(tp)) trustProxy = false;
    else if (/^(true|yes|on)$/i.test(tp)) trustProxy = 1;
    else if (/^\d+$/.test(tp)) trustProxy = Number(tp);
    else trustProxy = tp.toLowerCase();
  }
  const logLevel = str('LOG_LEVEL');
  if (logLevel && !isLogLevel(logLevel)) problems.push(`LOG_LEVEL must be debug, info, warn or error, got ${JSON.stringify(logLevel)}`);
  const reapSeconds = num('REAP_INTERVAL_SECONDS');
  const reconcileSeconds = num('RECONCILE_INTERVAL_SECONDS');
  const quality = str('DEFAULT_QUALITY');
  if (quality && !QUALITIES.includes(quality as never)) problems.push(`DEFAULT_QUALITY must be low, medium or high, got ${JSON.stringify(quality)}`);

  const port = num('PORT') ?? 8787;
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(str('PORT'))}`);

  const session = rate('SESSIONS');
  const llmRate = rate('LLM');
  const sttRate = rate('STT_TOKEN');
  const opt = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
    (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
  const config: BrokerConfig = {
    ...opt('avatarProvider', avatarProvider),
    ...(avatarProvider === 'liveavatar'
      ? { liveavatar: { apiKey: liveavatarKey ?? '', ...opt('apiBase', str('LIVEAVATAR_API_BASE')), ...opt('sandbox', sandbox) } }
      : {}),
    ...(avatarProvider === 'heygen-streaming' ? { heygen: { apiKey: heygenKey ?? '', ...opt('apiBase', str('HEYGEN_API_BASE')) } } : {}),
    deepgram: {
      apiKey: str('DEEPGRAM_API_KEY') ?? '',
      ...opt('apiBase', str('DEEPGRAM_API_BASE')),
      ...opt('tokenTtlSeconds', num('STT_TOKEN_TTL_SECONDS')),
    },
    ...opt('sttTokensPerSession', num('STT_TOKENS_PER_SESSION')),
    ...opt('llm', llm),
    ...opt('avatarIds', list('AVATAR_IDS')),
    ...opt('voiceIds', list('VOICE_IDS')),
    ...opt('languages', list('LANGUAGES')),
    ...opt('defaultLanguage', str('DEFAULT_LANGUAGE')),
    ...opt('sttModels', list('STT_MODELS')),
    ...opt('defaultQuality', quality as BrokerConfig['defaultQuality']),
    ...opt('basePath', str('BASE_PATH')),
    ...opt('publicUrl', str('PUBLIC_URL')),
    allowedOrigins: list('ALLOWED_ORIGINS') ?? [],
    ...opt('allowSameOrigin', bool('ALLOW_SAME_ORIGIN')),
    ...opt('allowNoOrigin', bool('ALLOW_NO_ORIGIN')),
    ...opt('trustProxy', trustProxy),
    ...opt('maxSessions', num('MAX_SESSIONS')),
    ...opt('maxSessionsPerClient', num('MAX_SESSIONS_PER_CLIENT')),
    ...opt('maxSessionSeconds', num('MAX_SESSION_SECONDS')),
    ...opt('idleTimeoutSeconds', num('IDLE_TIMEOUT_SECONDS')),
    ...opt('abandonAfterSeconds', num('ABANDON_AFTER_SECONDS')),
    ...opt('reapIntervalMs', reapSeconds === undefined ? undefined : Math.round(reapSeconds * 1000)),
    ...opt('avatarAccount', str('AVATAR_ACCOUNT')?.toLowerCase() as BrokerConfig['avatarAccount']),
    ...opt('reconcileIntervalMs', reconcileSeconds === undefined ? undefined : Math.round(reconcileSeconds * 1000)),
    ...(session || llmRate || sttRate ? { rateLimits: { ...opt('session', session), ...opt('llm', llmRate), ...opt('sttToken', sttRate) } } : {}),
    ...opt('maxBodyBytes', num('MAX_BODY_BYTES')),
    ...opt('maxLlmBodyBytes', num('MAX_LLM_BODY_BYTES')),
    ...opt('upstreamTimeoutMs', num('UPSTREAM_TIMEOUT_MS')),
    ...opt('redisUrl', str('REDIS_URL')),
    ...opt('redisPrefix', str('REDIS_PREFIX')),
    ...opt('logLevel', logLevel && isLogLevel(logLevel) ? logLevel : undefined),
  };
  if (str('STATIC_DIR')) {
    problems.push('STATIC_DIR is no longer supported: the broker serves no files. Serve your pages from your web server (or a static file handler such as sirv or serve-static) and mount the broker beside them');
  }
  const connections = (name: string): number | undefined => {
    const n = num(name);
    if (n !== undefined && !(Number.isInteger(n) && n >= 0)) problems.push(`${name} must be a whole number (0: no limit), got ${JSON.stringify(str(name))}`);
    return n;
  };
  const server: ServerSettings = {
    port,
    host: str('HOST') ?? '127.0.0.1',
    ...opt('maxConnections', connections('MAX_CONNECTIONS')),
    ...opt('maxConnectionsPerAddress', connections('MAX_CONNECTIONS_PER_ADDRESS')),
  };
  // Run the full check now, so every problem (env and config) is reported at once.
  try {
    resolveConfig(config);
  } catch (err) {
    if (err instanceof BrokerConfigError) problems.push(...err.problems);
    else throw err;
  }
  if (problems.length) throw new BrokerConfigError([...new Set(problems)]);
  return { config, server };
}
