// LiveAvatar (api.liveavatar.com), FULL mode, locally: the same paths, auth, envelopes and session
// life as upstream (/work/shared/LIVEAVATAR.md), and per started session a real LiveKit room with the
// synthetic avatar (`heygen`) and the agent (`liveavatar-agent-<session_id>`) that takes commands.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { RoomServiceClient } from 'livekit-server-sdk';
import { BodyError, FaultPlan, answerFault, closeServer, handleFaultControl, listenLocally, readJsonBody, sendJson } from '../faults.js';
import { mintLiveKitToken, type LiveKitCredentials } from '../livekit/tokens.js';
import { LiveAvatarAgent } from './agent.js';
import { signJwt, verifyJwt } from './jwt.js';
import {
  AGENT_IDENTITY_PREFIX,
  AVATAR_IDENTITY,
  DEFAULT_AVATARS,
  DEFAULT_VOICES,
  INTERACTIVITY_TYPES,
  LANGUAGES,
  LIVEAVATAR_ERRORS,
  SANDBOX_AVATAR_ID,
  STOP_REASONS,
  SUCCESS_CODE,
  VIDEO_ENCODINGS,
  VIDEO_QUALITIES,
  type LiveAvatarCatalogAvatar,
  type LiveAvatarCommand,
  type LiveAvatarErrorName,
  type LiveAvatarVoice,
  type StartSessionData,
  type StopReason,
} from './protocol.js';

export interface LiveAvatarStandInOptions {
  host?: string;
  port?: number;
  /** The account key accepted in `X-API-KEY`. */
  apiKey: string;
  /** The LiveKit server the avatar and agent join (url `ws://…`, keys). */
  livekit: LiveKitCredentials & { url: string };
  /** Sessions started and not ended, at most (default 3); checked by /v1/sessions/start. */
  maxConcurrentSessions?: number;
  /** A started session with no keep-alive, command or speech for this long ends as IDLE_TIMEOUT (default 5 min). */
  idleTimeoutMs?: number;
  /** How long a sandbox session lasts before MAX_DURATION_REACHED (default 60 000, "about one minute"). */
  sandboxDurationMs?: number;
  /** The account's limit on `max_session_duration` (seconds); also the default when a token names none. */
  maxSessionDurationSeconds?: number;
  /** The avatar catalog (default: "Wayne", the sandbox avatar, "Judy", and one account avatar). */
  avatars?: LiveAvatarCatalogAvatar[];
  voices?: LiveAvatarVoice[];
  /** Video size and rate of the synthetic avatar (default 640×360 at 25 fps, whatever the quality asked). */
  video?: { width: number; height: number; fps: number };
}

/** One command received on `agent-control`, in arrival order. */
export interface CommandRecord {
  sessionId: string;
  eventType: string;
  eventId?: string;
  text?: string;
  /** Date.now() when the agent received it. */
  receivedAt: number;
}

/** One session token minted by POST /v1/sessions/token. */
export interface SessionTokenRecord {
  sessionId: string;
  sessionToken: string;
  issuedAt: number;
}

export interface LiveAvatarStandIn {
  url: string;
  faults: FaultPlan;
  /** Sessions started (or starting) and not ended. */
  readonly openSessions: number;
  /** Every agent-control command received, in order. */
  commands: CommandRecord[];
  /** Every session token minted, in order. */
  readonly tokens: readonly SessionTokenRecord[];
  /** Why a session ended (the `session.stopped` reason), once it has. */
  stopReason(sessionId: string): StopReason | undefined;
  close(): Promise<void>;
}

type SessionStatus = 'created' | 'starting' | 'active' | 'closed';

interface Session {
  id: string;
  status: SessionStatus;
  data: StartSessionData;
  /** Seconds, as answered by start (null: no limit). */
  maxDuration: number | null;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  endedAt?: number;
  agent?: LiveAvatarAgent;
  idleTimer?: NodeJS.Timeout;
  durationTimer?: NodeJS.Timeout;
  stopReason?: StopReason;
}

class LiveAvatarError extends Error {
  constructor(
    readonly kind: LiveAvatarErrorName,
    detail?: string,
  ) {
    super(detail ? `${LIVEAVATAR_ERRORS[kind].message}${kind === 'validation' ? ' ' : ': '}${detail}` : LIVEAVATAR_ERRORS[kind].message);
  }
}

const invalid = (detail: string) => new LiveAvatarError('validation', detail);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN_TTL_SECONDS = 60 * 60;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`${field}: must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Starts the LiveAvatar stand-in. */
export async function startLiveAvatarStandIn(options: LiveAvatarStandInOptions): Promise<LiveAvatarStandIn> {
  const { apiKey } = options;
  const maxSessions = options.maxConcurrentSessions ?? 3;
  const idleTimeoutMs = options.idleTimeoutMs ?? 5 * 60 * 1000;
  const sandboxDurationMs = options.sandboxDurationMs ?? 60_000;
  const accountMaxDuration = options.maxSessionDurationSeconds;
  const avatars = options.avatars ?? DEFAULT_AVATARS;
  const voices = options.voices ?? DEFAULT_VOICES;
  const video = options.video ?? { width: 640, height: 360, fps: 25 };
  const rooms = new RoomServiceClient(options.livekit.url.replace(/^ws/, 'http'), options.livekit.apiKey, options.livekit.apiSecret);
  const secret = randomBytes(32);
  const faults = new FaultPlan();
  const sessions = new Map<string, Session>();
  const commands: CommandRecord[] = [];
  const tokens: SessionTokenRecord[] = [];
  let selfUrl = '';

  const live = (s: Session) => s.status === 'starting' || s.status === 'active';
  const open = () => [...sessions.values()].filter(live);

  async function closeSession(s: Session, reason: StopReason): Promise<void> {
    if (s.status === 'closed') return;
    const wasStarted = s.status !== 'created';
    s.status = 'closed';
    s.stopReason = reason;
    s.endedAt = s.updatedAt = Date.now();
    clearTimeout(s.idleTimer);
    clearTimeout(s.durationTimer);
    const agent = s.agent;
    s.agent = undefined;
    await agent?.stop(reason);
    // Ends the room for the viewer too, as the real service does when a session ends.
    if (wasStarted) await rooms.deleteRoom(s.id).catch(() => undefined);
  }

  function touch(s: Session): void {
    clearTimeout(s.idleTimer);
    if (s.status !== 'active') return;
    s.idleTimer = setTimeout(() => {
      // Speaking counts as activity: only a silent avatar times out.
      if (s.agent?.busy) return touch(s);
      void closeSession(s, 'IDLE_TIMEOUT');
    }, idleTimeoutMs);
    s.idleTimer.unref();
  }

  /** An armed `expire` fault ends the session as if its duration had run out. */
  async function maybeExpire(s: Session, where: string): Promise<void> {
    if (live(s) && faults.take(where, ['expire'])) await closeSession(s, 'MAX_DURATION_REACHED');
  }

  type Caller = { account: true } | { session: Session };

  /** The account (X-API-KEY) or one session (Bearer session token); anything else is 4003. */
  function authenticate(req: IncomingMessage): Caller {
    const key = req.headers['x-api-key'];
    if (key !== undefined) {
      if (key === apiKey) return { account: true };
      throw new LiveAvatarError('unauthenticated');
    }
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const payload = m ? verifyJwt(m[1], secret) : undefined;
    const s = payload && sessions.get(String(payload.session_id));
    if (!s) throw new LiveAvatarError('unauthenticated');
    return { session: s };
  }

  function account(req: IncomingMessage): void {
    if (!('account' in authenticate(req))) throw new LiveAvatarError('unauthenticated');
  }

  function bearer(req: IncomingMessage): Session {
    const caller = authenticate(req);
    if (!('session' in caller)) throw new LiveAvatarError('unauthenticated');
    return caller.session;
  }

  /** The session a call is about: the Bearer token's, or `session_id` in the body with the account key. */
  function targetSession(req: IncomingMessage, body: Record<string, unknown>): Session {
    const caller = authenticate(req);
    const id = body.session_id;
    if (id !== undefined && (typeof id !== 'string' || !UUID.test(id))) throw invalid('session_id: must be a UUID');
    if ('session' in caller) {
      if (id !== undefined && id !== caller.session.id) throw new LiveAvatarError('unauthenticated');
      return caller.session;
    }
    if (id === undefined) throw invalid('session_id: required with an API key');
    const s = sessions.get(id);
    if (!s) throw new LiveAvatarError('sessionNotFound');
    return s;
  }

  function parseTokenBody(body: Record<string, unknown>): StartSessionData {
    const mode = body.mode ?? 'FULL';
    if (mode === 'LITE') throw invalid('mode: LITE is not served by the offline stand-in (FULL only)');
    if (mode !== 'FULL') throw invalid('mode: must be FULL or LITE');
    const avatarId = body.avatar_id;
    if (typeof avatarId !== 'string' || !UUID.test(avatarId)) throw invalid('avatar_id: a UUID is required');
    if (!avatars.some((a) => a.id === avatarId)) throw invalid(`avatar_id: no avatar ${avatarId}`);
    const sandbox = body.is_sandbox ?? false;
    if (typeof sandbox !== 'boolean') throw invalid('is_sandbox: must be a boolean');
    if (sandbox && avatarId !== SANDBOX_AVATAR_ID) throw invalid(`is_sandbox: sandbox sessions work only with the avatar ${SANDBOX_AVATAR_ID} (Wayne)`);
    const persona = body.avatar_persona ?? {};
    if (!isObject(persona)) throw invalid('avatar_persona: must be an object');
    const language = persona.language ?? 'en';
    if (typeof language !== 'string' || !LANGUAGES.some((l) => l.code === language)) throw invalid('avatar_persona.language: unsupported language');
    if (persona.voice_id !== undefined && !voices.some((v) => v.id === persona.voice_id)) throw invalid('avatar_persona.voice_id: no such voice');
    if (persona.context_id !== undefined && (typeof persona.context_id !== 'string' || !UUID.test(persona.context_id))) {
      throw invalid('avatar_persona.context_id: must be a UUID');
    }
    const voiceSettings = persona.voice_settings ?? {};
    if (!isObject(voiceSettings)) throw invalid('avatar_persona.voice_settings: must be an object');
    const speed = voiceSettings.speed ?? 1;
    if (typeof speed !== 'number' || speed < 0.8 || speed > 1.2) throw invalid('avatar_persona.voice_settings.speed: must be 0.8–1.2');
    const videoSettings = body.video_settings ?? {};
    if (!isObject(videoSettings)) throw invalid('video_settings: must be an object');
    const quality = oneOf(videoSettings.quality, VIDEO_QUALITIES, 'video_settings.quality', 'high');
    const encoding = oneOf(videoSettings.encoding, VIDEO_ENCODINGS, 'video_settings.encoding', 'VP8');
    const maxDuration = body.max_session_duration;
    if (maxDuration !== undefined && (typeof maxDuration !== 'number' || !Number.isInteger(maxDuration) || maxDuration < 1)) {
      throw invalid('max_session_duration: must be a positive integer (seconds)');
    }
    if (maxDuration !== undefined && accountMaxDuration !== undefined && maxDuration > accountMaxDuration) {
      throw invalid(`max_session_duration: must be <= ${accountMaxDuration}, the limit of this account`);
    }
    return {
      mode: 'FULL',
      avatar_id: avatarId,
      avatar_persona: {
        ...(typeof persona.voice_id === 'string' ? { voice_id: persona.voice_id } : {}),
        ...(typeof persona.context_id === 'string' ? { context_id: persona.context_id } : {}),
        language,
        voice_settings: { speed },
      },
      is_sandbox: sandbox,
      video_settings: { quality, encoding },
      ...(maxDuration !== undefined ? { max_session_duration: maxDuration } : {}),
      interactivity_type: oneOf(body.interactivity_type, INTERACTIVITY_TYPES, 'interactivity_type', 'CONVERSATIONAL'),
    };
  }

  /** `{count, next, previous, results}` of one page (`page` ≥ 1, `page_size` 1–100, default 20). */
  function paginate<T>(items: T[], url: URL): { count: number; next: string | null; previous: string | null; results: T[] } {
    const int = (name: string, fallback: number, max: number) => {
      const raw = url.searchParams.get(name);
      if (raw === null) return fallback;
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < 1 || n > max) throw invalid(`${name}: must be an integer from 1 to ${max}`);
      return n;
    };
    const page = int('page', 1, Number.MAX_SAFE_INTEGER);
    const size = int('page_size', 20, 100);
    const link = (p: number) => {
      const u = new URL(url.pathname + url.search, selfUrl);
      u.searchParams.set('page', String(p));
      return u.toString();
    };
    return {
      count: items.length,
      next: page * size < items.length ? link(page + 1) : null,
      previous: page > 1 ? link(page - 1) : null,
      results: items.slice((page - 1) * size, page * size),
    };
  }

  const iso = (ms: number) => new Date(ms).toISOString();

  function sessionEntry(s: Session) {
    const duration = s.startedAt ? Math.round(((s.endedAt ?? Date.now()) - s.startedAt) / 1000) : 0;
    return {
      id: s.id,
      created_at: iso(s.createdAt),
      updated_at: iso(s.updatedAt),
      duration,
      mode: s.data.mode,
      is_sandbox: s.data.is_sandbox,
      avatar_id: s.data.avatar_id,
      // FULL costs 2 credits a minute, a started minute at least; the sandbox is free.
      credits_consumed: s.data.is_sandbox || !s.startedAt ? 0 : Math.max(1, Math.ceil(duration / 60)) * 2,
      ...(s.status === 'closed' ? { end_reason: s.stopReason } : {}),
    };
  }

  function avatarEntry(a: LiveAvatarCatalogAvatar) {
    return {
      id: a.id,
      name: a.name,
      created_at: '2025-01-01T00:00:00Z',
      updated_at: '2025-01-01T00:00:00Z',
      error_message: null,
      type: 'VIDEO',
      status: 'ACTIVE',
      preview_url: '',
      is_expired: false,
      default_voice: a.default_voice,
      is_1080p: false,
    };
  }

  const ok = (res: ServerResponse, data: unknown, status = 200) => sendJson(res, status, { code: SUCCESS_CODE, data, message: 'Success' });

  type Route = (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, url: URL) => Promise<void>;
  const routes: Record<string, Route> = {
    async 'POST /v1/sessions/token'(req, res, body) {
      account(req);
      const data = parseTokenBody(body);
      const id = randomUUID();
      const now = Date.now();
      const sandboxSeconds = sandboxDurationMs / 1000;
      const limit = data.max_session_duration ?? accountMaxDuration ?? null;
      sessions.set(id, {
        id,
        status: 'created',
        data,
        maxDuration: data.is_sandbox ? Math.min(limit ?? sandboxSeconds, sandboxSeconds) : limit,
        createdAt: now,
        updatedAt: now,
      });
      const iat = Math.floor(now / 1000);
      const sessionToken = signJwt({ session_id: id, start_session_data: data, iat, exp: iat + TOKEN_TTL_SECONDS }, secret);
      tokens.push({ sessionId: id, sessionToken, issuedAt: now });
      ok(res, { session_id: id, session_token: sessionToken });
    },

    async 'POST /v1/sessions/start'(req, res) {
      const s = bearer(req);
      await maybeExpire(s, '/v1/sessions/start');
      if (s.status !== 'created') throw new LiveAvatarError('sessionNotActive', s.status === 'closed' ? 'the session has ended' : 'the session has already started');
      if (open().length >= maxSessions) throw new LiveAvatarError('concurrencyLimit');
      s.status = 'starting';
      const ttlSeconds = Math.ceil(s.maxDuration ?? TOKEN_TTL_SECONDS) + 60;
      const avatar = avatars.find((a) => a.id === s.data.avatar_id)!;
      let agent: LiveAvatarAgent;
      try {
        const [avatarToken, agentToken] = await Promise.all([
          mintLiveKitToken(options.livekit, s.id, AVATAR_IDENTITY, { name: avatar.name, ttlSeconds }),
          mintLiveKitToken(options.livekit, s.id, `${AGENT_IDENTITY_PREFIX}${s.id}`, { ttlSeconds }),
        ]);
        agent = await LiveAvatarAgent.start({
          url: options.livekit.url,
          avatarToken,
          agentToken,
          sessionId: s.id,
          language: s.data.avatar_persona.language,
          rate: s.data.avatar_persona.voice_settings?.speed ?? 1,
          video,
          onCommand: (command) => onCommand(s, command),
        });
      } catch (err) {
        await closeSession(s, 'SERVER_ERROR');
        throw err;
      }
      if (s.status !== 'starting') {
        // Stopped while the participants were joining (their join made the room again).
        await agent.stop(s.stopReason ?? 'USER_CLOSED');
        await rooms.deleteRoom(s.id).catch(() => undefined);
        throw new LiveAvatarError('sessionNotActive', 'the session has ended');
      }
      s.agent = agent;
      s.status = 'active';
      s.startedAt = s.updatedAt = Date.now();
      if (s.maxDuration !== null) {
        s.durationTimer = setTimeout(() => void closeSession(s, 'MAX_DURATION_REACHED'), s.maxDuration * 1000);
        s.durationTimer.unref();
      }
      touch(s);
      const livekitClientToken = await mintLiveKitToken(options.livekit, s.id, `client-${s.id}`, { ttlSeconds });
      // FULL: no ws_url (LITE only).
      ok(res, { session_id: s.id, livekit_url: options.livekit.url, livekit_client_token: livekitClientToken, max_session_duration: s.maxDuration }, 201);
    },

    async 'POST /v1/sessions/keep-alive'(req, res, body) {
      const s = targetSession(req, body);
      await maybeExpire(s, '/v1/sessions/keep-alive');
      if (s.status === 'closed') throw new LiveAvatarError('sessionNotActive', 'the session has ended');
      s.updatedAt = Date.now();
      touch(s);
      ok(res, null);
    },

    async 'POST /v1/sessions/stop'(req, res, body) {
      const s = targetSession(req, body);
      // Upstream's request default is USER_CLOSED (its schema's field default says UNKNOWN).
      const reason = oneOf(body.reason, STOP_REASONS, 'reason', 'USER_CLOSED');
      await closeSession(s, reason);
      ok(res, null);
    },

    async 'DELETE /v1/sessions'(req, res) {
      // HeyGen's own demo ends sessions this way, with the session token.
      await closeSession(bearer(req), 'USER_CLOSED');
      ok(res, null);
    },

    async 'GET /v1/sessions'(req, res, _body, url) {
      account(req);
      const type = url.searchParams.get('type');
      if (type !== 'active' && type !== 'historic') throw invalid('type: required, active or historic');
      const list = [...sessions.values()]
        .filter((s) => (type === 'active' ? live(s) : s.status === 'closed'))
        .sort((a, b) => b.createdAt - a.createdAt)
        .map(sessionEntry);
      ok(res, paginate(list, url));
    },

    async 'GET /v1/avatars/public'(_req, res, _body, url) {
      // Needs no key: the OpenAPI page lists no authorization for it.
      ok(res, paginate(avatars.filter((a) => a.is_public).map(avatarEntry), url));
    },

    async 'GET /v1/avatars'(req, res, _body, url) {
      account(req);
      ok(res, paginate(avatars.filter((a) => !a.is_public).map(avatarEntry), url));
    },

    async 'GET /v1/voices'(req, res, _body, url) {
      account(req);
      const type = oneOf(url.searchParams.get('voice_type') ?? undefined, ['public', 'private'] as const, 'voice_type', 'public');
      const list = type === 'public' ? voices.map((v) => ({ ...v, created_at: '2025-01-01T00:00:00Z', updated_at: '2025-01-01T00:00:00Z', tags: [], description: '' })) : [];
      ok(res, paginate(list, url));
    },

    async 'GET /v1/languages'(_req, res) {
      ok(res, LANGUAGES);
    },
  };

  function onCommand(s: Session, command: LiveAvatarCommand): void {
    commands.push({
      sessionId: s.id,
      eventType: command.event_type,
      ...(typeof command.event_id === 'string' ? { eventId: command.event_id } : {}),
      ...(typeof command.text === 'string' ? { text: command.text } : {}),
      receivedAt: Date.now(),
    });
    s.updatedAt = Date.now();
    touch(s);
    void maybeExpire(s, 'agent-control');
  }

  /** `GET /v1/sessions/<id>`: one session, for the account or its own token. */
  async function getSession(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const caller = authenticate(req);
    const s = sessions.get(id);
    if (!s || ('session' in caller && caller.session !== s)) throw new LiveAvatarError('sessionNotFound');
    ok(res, sessionEntry(s));
  }

  const server = createServer(async (req, res) => {
    // The official client calls with `credentials: "include"`: the origin is echoed, never `*`.
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, content-type, x-api-key',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    try {
      if (await handleFaultControl(req, res, faults)) return;
      const url = new URL(req.url ?? '/', 'http://local');
      if (url.pathname === '/_commands' && req.method === 'GET') return sendJson(res, 200, { commands });
      if (url.pathname === '/_sessions' && req.method === 'GET') {
        return sendJson(res, 200, { open: open().length, sessions: open().map((s) => ({ session_id: s.id, status: s.status })) });
      }
      const one = /^\/v1\/sessions\/([0-9a-f-]{36})$/i.exec(url.pathname);
      const route = one && req.method === 'GET' ? (r: IncomingMessage, s: ServerResponse) => getSession(r, s, one[1]) : routes[`${req.method} ${url.pathname}`];
      if (!route) {
        const known = Object.keys(routes).some((k) => k.endsWith(` ${url.pathname}`));
        throw new LiveAvatarError(known ? 'methodNotAllowed' : 'notFound');
      }
      const fault = faults.take(url.pathname, ['rate-limit', 'server-error', 'stall', 'drop', 'lose-answer']);
      if (fault && answerFault(res, fault, errorBody)) return;
      const body = req.method === 'POST' ? await readJsonBody(req, 64 * 1024) : {};
      if (!isObject(body)) throw invalid('body: must be a JSON object');
      await route(req, res, body, url);
    } catch (err) {
      if (res.headersSent) return;
      let error = new LiveAvatarError('internal');
      if (err instanceof LiveAvatarError) error = err;
      else if (err instanceof BodyError) error = new LiveAvatarError(err.status === 413 ? 'tooLarge' : 'validation', err.message);
      else console.error('liveavatar stand-in:', err);
      const e = LIVEAVATAR_ERRORS[error.kind];
      sendJson(res, e.status, { code: e.code, data: null, message: error.message });
    }
  });

  selfUrl = await listenLocally(server, options.host, options.port);

  return {
    url: selfUrl,
    faults,
    get openSessions() {
      return open().length;
    },
    commands,
    tokens,
    stopReason: (id) => sessions.get(id)?.stopReason,
    async close() {
      await Promise.all([...sessions.values()].map((s) => closeSession(s, 'SERVER_ERROR')));
      await closeServer(server);
    },
  };
}

/** The error envelope a fault answers with. */
function errorBody(kind: 'rateLimited' | 'internal') {
  const e = LIVEAVATAR_ERRORS[kind];
  return { code: e.code, data: null, message: e.message };
}
