// The HeyGen streaming API, locally: the same paths, auth, envelopes and session life as
// api.heygen.com/v1 (DESIGN.md §6), with a synthetic avatar in a real LiveKit room per session.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { RoomServiceClient } from 'livekit-server-sdk';
import { BodyError, FaultPlan, answerFault, closeServer, handleFaultControl, listenLocally, readJsonBody, sendJson } from '../faults.js';
import { mintLiveKitToken, type LiveKitCredentials } from '../livekit/tokens.js';
import { synthesizeSpeech } from '../avatar/speech.js';
import { AVATAR_SAMPLE_RATE, SyntheticAvatar } from './synthetic-avatar.js';

/** Error codes of the `{code, message}` envelope (HeyGen's where known: 400112, 10013). */
export const HEYGEN_ERRORS = {
  unauthorized: { status: 401, code: 400112, message: 'Unauthorized' },
  invalidParameter: { status: 400, code: 400100, message: 'Invalid parameter' },
  avatarNotFound: { status: 400, code: 10013, message: 'Avatar not found' },
  sessionNotFound: { status: 400, code: 10005, message: 'Session not found' },
  sessionNotStarted: { status: 400, code: 10006, message: 'Session is not started' },
  sessionClosed: { status: 400, code: 10007, message: 'Session is closed' },
  concurrencyLimit: { status: 400, code: 10004, message: 'Concurrent session limit reached' },
  notFound: { status: 404, code: 404, message: 'Not found' },
  methodNotAllowed: { status: 405, code: 405, message: 'Method not allowed' },
  tooLarge: { status: 413, code: 413, message: 'Request body too large' },
  rateLimited: { status: 429, code: 429, message: 'Too many requests' },
  internal: { status: 500, code: 500, message: 'Internal server error' },
} as const;

type ErrorName = keyof typeof HEYGEN_ERRORS;

class HeygenError extends Error {
  constructor(
    readonly kind: ErrorName,
    detail?: string,
  ) {
    super(detail ? `${HEYGEN_ERRORS[kind].message}: ${detail}` : HEYGEN_ERRORS[kind].message);
  }
}

export interface StandInAvatar {
  avatar_id: string;
  pose_name: string;
  normal_preview: string;
  default_voice: string;
  is_public: boolean;
  status: 'ACTIVE';
}

export interface HeygenStandInOptions {
  host?: string;
  port?: number;
  /** The account key accepted in `x-api-key`; default 'offline-heygen-key'. */
  apiKey?: string;
  /** The LiveKit server the avatars join (url `ws://…`, keys). */
  livekit: LiveKitCredentials & { url: string };
  /** Concurrent sessions per account (trial keys: 3). */
  maxConcurrentSessions?: number;
  /** Seconds a session may last (unpaid: 600). */
  sessionDurationLimit?: number;
  /** Overrides every session's `activity_idle_timeout` (seconds), e.g. to test idle ends quickly. */
  idleTimeoutSeconds?: number;
  /** Longest task text in characters. */
  maxTaskLength?: number;
  avatars?: string[];
  /** Video size and rate of the synthetic avatar. */
  video?: { width: number; height: number; fps: number };
}

type SessionStatus = 'new' | 'connected' | 'closed';

interface Session {
  id: string;
  status: SessionStatus;
  createdAt: number;
  startedAt?: number;
  room: string;
  language: string;
  voiceRate: number;
  idleTimeoutS: number;
  quality: string;
  avatarId: string;
  avatar?: SyntheticAvatar;
  idleTimer?: NodeJS.Timeout;
  durationTimer?: NodeJS.Timeout;
  closedReason?: string;
  tasks: number;
}

export interface HeygenStandIn {
  url: string;
  faults: FaultPlan;
  /** Sessions not yet closed (new or connected). */
  readonly openSessions: number;
  /** Every accepted `streaming.task`, in order (for tests and benchmarks). */
  readonly tasks: readonly TaskRecord[];
  /** Every accepted `streaming.interrupt`: session and Date.now() on arrival. */
  readonly interrupts: readonly { sessionId: string; receivedAt: number }[];
  /** Why each closed session ended, by id: `stopped`, `idle_timeout`, `duration_limit`, `expired`. */
  closedReason(sessionId: string): string | undefined;
  close(): Promise<void>;
}

export interface TaskRecord {
  sessionId: string;
  taskId: string;
  text: string;
  taskType: 'repeat' | 'talk';
  /** When the request arrived (ms, performance.timeOrigin based: Date.now() precision). */
  receivedAt: number;
  durationMs: number;
}

const QUALITIES = ['low', 'medium', 'high'];
const ENCODINGS = ['VP8', 'H264'];

/** Starts the HeyGen streaming API stand-in. */
export async function startHeygenStandIn(options: HeygenStandInOptions): Promise<HeygenStandIn> {
  const apiKey = options.apiKey ?? 'offline-heygen-key';
  const maxSessions = options.maxConcurrentSessions ?? 3;
  const durationLimit = options.sessionDurationLimit ?? 600;
  const maxTaskLength = options.maxTaskLength ?? 1000;
  const avatars = options.avatars ?? ['Anna_public_3', 'Wayne_20240711', 'offline_avatar'];
  const video = options.video ?? { width: 640, height: 360, fps: 25 };
  const livekitHttp = options.livekit.url.replace(/^ws/, 'http');
  const rooms = new RoomServiceClient(livekitHttp, options.livekit.apiKey, options.livekit.apiSecret);
  const faults = new FaultPlan();
  const sessions = new Map<string, Session>();
  const tasks: TaskRecord[] = [];
  const interrupts: { sessionId: string; receivedAt: number }[] = [];
  /** Session tokens from streaming.create_token → the session they created (once bound). */
  const tokens = new Map<string, { expires: number; sessionId?: string }>();

  let selfUrl = '';
  const open = () => [...sessions.values()].filter((s) => s.status !== 'closed');

  async function closeSession(s: Session, reason: string): Promise<void> {
    if (s.status === 'closed') return;
    s.status = 'closed';
    s.closedReason = reason;
    clearTimeout(s.idleTimer);
    clearTimeout(s.durationTimer);
    const avatar = s.avatar;
    s.avatar = undefined;
    await avatar?.close().catch(() => undefined);
    // Ends the room for the viewer too, as the real service does when a session ends.
    await rooms.deleteRoom(s.room).catch(() => undefined);
  }

  function touch(s: Session): void {
    clearTimeout(s.idleTimer);
    if (s.status !== 'connected') return;
    s.idleTimer = setTimeout(() => {
      // Speaking counts as activity: only a silent avatar times out.
      if (s.avatar?.busy) return touch(s);
      void closeSession(s, 'idle_timeout');
    }, s.idleTimeoutS * 1000);
    s.idleTimer.unref();
  }

  /** Who is calling: the account (x-api-key) or one session token. */
  function authenticate(req: IncomingMessage): { account: true } | { token: string } {
    const key = req.headers['x-api-key'];
    if (typeof key === 'string' && key === apiKey) return { account: true };
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (m) {
      const t = tokens.get(m[1]);
      if (t && t.expires > Date.now()) return { token: m[1] };
    }
    throw new HeygenError('unauthorized');
  }

  function findSession(caller: ReturnType<typeof authenticate>, body: Record<string, unknown>): Session {
    const id = body.session_id;
    if (typeof id !== 'string' || !id) throw new HeygenError('invalidParameter', 'session_id is required');
    const s = sessions.get(id);
    if (!s) throw new HeygenError('sessionNotFound');
    if ('token' in caller && tokens.get(caller.token)?.sessionId !== id) throw new HeygenError('unauthorized');
    const expire = faults.take('expire', ['expire']);
    if (expire) void closeSession(s, 'expired');
    if (s.status === 'closed') throw new HeygenError('sessionClosed', s.closedReason);
    return s;
  }

  const ok = (res: ServerResponse, data: unknown) => sendJson(res, 200, { code: 100, data, message: 'success' });

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => Promise<void>> = {
    async 'POST streaming.create_token'(req, res) {
      if (!('account' in authenticate(req))) throw new HeygenError('unauthorized');
      const token = randomBytes(24).toString('base64url');
      tokens.set(token, { expires: Date.now() + 60 * 60 * 1000 });
      ok(res, { token });
    },

    async 'POST streaming.new'(req, res, body) {
      const caller = authenticate(req);
      if ('token' in caller && tokens.get(caller.token)?.sessionId) {
        throw new HeygenError('unauthorized', 'this session token already created a session');
      }
      const quality = body.quality ?? 'medium';
      if (typeof quality !== 'string' || !QUALITIES.includes(quality)) throw new HeygenError('invalidParameter', 'quality');
      const avatarId = body.avatar_id ?? body.avatar_name ?? avatars[0];
      if (typeof avatarId !== 'string' || !avatars.includes(avatarId)) throw new HeygenError('avatarNotFound');
      const encoding = body.video_encoding ?? 'VP8';
      if (typeof encoding !== 'string' || !ENCODINGS.includes(encoding)) throw new HeygenError('invalidParameter', 'video_encoding');
      const version = body.version ?? 'v2';
      if (version !== 'v2') throw new HeygenError('invalidParameter', 'version: only v2 (LiveKit) sessions are served');
      const idle = body.activity_idle_timeout ?? 120;
      if (typeof idle !== 'number' || !Number.isFinite(idle) || idle < 30 || idle > 3600) {
        throw new HeygenError('invalidParameter', 'activity_idle_timeout must be 30–3600');
      }
      const voice = (body.voice ?? {}) as Record<string, unknown>;
      if (typeof voice !== 'object' || voice === null) throw new HeygenError('invalidParameter', 'voice');
      const rate = voice.rate ?? 1;
      if (typeof rate !== 'number' || rate < 0.5 || rate > 1.5) throw new HeygenError('invalidParameter', 'voice.rate must be 0.5–1.5');
      const language = body.language ?? 'en';
      if (typeof language !== 'string' || !/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/.test(language)) {
        throw new HeygenError('invalidParameter', 'language');
      }
      if (open().length >= maxSessions) throw new HeygenError('concurrencyLimit');

      const id = randomUUID();
      const s: Session = {
        id,
        status: 'new',
        createdAt: Date.now(),
        room: id,
        language,
        voiceRate: rate,
        idleTimeoutS: options.idleTimeoutSeconds ?? idle,
        quality,
        avatarId,
        tasks: 0,
      };
      sessions.set(id, s);
      if ('token' in caller) tokens.get(caller.token)!.sessionId = id;
      const accessToken = await mintLiveKitToken(options.livekit, s.room, `client-${id.slice(0, 8)}`, {
        canPublish: false,
        ttlSeconds: durationLimit + 60,
      });
      ok(res, {
        session_id: id,
        url: options.livekit.url,
        access_token: accessToken,
        // HeyGen's own realtime socket (for its LLM's `talk` mode): named as upstream, not served here.
        realtime_endpoint: `${selfUrl.replace(/^http/, 'ws')}/v1/ws/streaming.chat?session_id=${id}`,
        session_duration_limit: durationLimit,
        is_paid: false,
      });
    },

    async 'POST streaming.start'(req, res, body) {
      const s = findSession(authenticate(req), body);
      if (s.status === 'connected') return ok(res, null);
      s.avatar = await SyntheticAvatar.join({
        url: options.livekit.url,
        token: await mintLiveKitToken(options.livekit, s.room, 'heygen-avatar', { name: s.avatarId }),
        sessionId: s.id,
        ...video,
      });
      if (s.status !== 'new') {
        // stopped while joining
        await s.avatar.close();
        throw new HeygenError('sessionClosed');
      }
      s.status = 'connected';
      s.startedAt = Date.now();
      s.durationTimer = setTimeout(() => void closeSession(s, 'duration_limit'), durationLimit * 1000);
      s.durationTimer.unref();
      touch(s);
      ok(res, null);
    },

    async 'POST streaming.task'(req, res, body) {
      const s = findSession(authenticate(req), body);
      if (s.status !== 'connected' || !s.avatar) throw new HeygenError('sessionNotStarted');
      const text = body.text;
      if (typeof text !== 'string' || !text.trim()) throw new HeygenError('invalidParameter', 'text is required');
      if (text.length > maxTaskLength) throw new HeygenError('invalidParameter', `text longer than ${maxTaskLength} characters`);
      const type = body.task_type ?? 'repeat';
      if (type !== 'repeat' && type !== 'talk') throw new HeygenError('invalidParameter', 'task_type must be repeat or talk');
      const receivedAt = Date.now();
      const mode = body.task_mode ?? 'async';
      if (mode !== 'sync' && mode !== 'async') throw new HeygenError('invalidParameter', 'task_mode must be sync or async');
      touch(s);
      // `talk` would use HeyGen's own LLM; the stand-in answers with a fixed acknowledgement.
      const spoken = type === 'repeat' ? text : `You said: ${text}`;
      const pcm = await synthesizeSpeech(spoken, { language: s.language, rate: s.voiceRate, sampleRate: AVATAR_SAMPLE_RATE });
      const taskId = `${s.id.slice(0, 8)}-${++s.tasks}`;
      const durationMs = Math.round((pcm.length / AVATAR_SAMPLE_RATE) * 1000);
      if (!s.avatar) throw new HeygenError('sessionClosed');
      tasks.push({ sessionId: s.id, taskId, text, taskType: type, receivedAt, durationMs });
      const done = s.avatar.speak({ taskId, text: spoken, pcm });
      if (mode === 'sync') await done;
      ok(res, { task_id: taskId, duration_ms: durationMs });
    },

    async 'POST streaming.interrupt'(req, res, body) {
      const receivedAt = Date.now();
      const s = findSession(authenticate(req), body);
      interrupts.push({ sessionId: s.id, receivedAt });
      if (s.status !== 'connected' || !s.avatar) throw new HeygenError('sessionNotStarted');
      s.avatar.interrupt();
      touch(s);
      ok(res, null);
    },

    async 'POST streaming.keep_alive'(req, res, body) {
      const s = findSession(authenticate(req), body);
      touch(s);
      ok(res, null);
    },

    async 'POST streaming.ice'(req, res, body) {
      // Legacy raw-WebRTC candidate exchange: accepted for known sessions, unused with LiveKit.
      findSession(authenticate(req), body);
      ok(res, null);
    },

    async 'POST streaming.stop'(req, res, body) {
      const s = findSession(authenticate(req), body);
      await closeSession(s, 'stopped');
      ok(res, null);
    },

    async 'GET streaming/avatar.list'(req, res) {
      authenticate(req);
      const list: StandInAvatar[] = avatars.map((id) => ({
        avatar_id: id,
        pose_name: id.replace(/_/g, ' '),
        normal_preview: '',
        default_voice: 'offline-espeak',
        is_public: true,
        status: 'ACTIVE',
      }));
      ok(res, list);
    },

    async 'GET streaming.list'(req, res) {
      const caller = authenticate(req);
      const mine = open().filter((s) => 'account' in caller || tokens.get(caller.token)?.sessionId === s.id);
      ok(res, {
        sessions: mine.map((s) => ({ session_id: s.id, status: s.status, created_at: Math.floor(s.createdAt / 1000) })),
      });
    },
  };

  /** The seed document's names for the same calls. */
  const aliases: Record<string, string> = {
    'streaming/create_session': 'streaming.new',
    'streaming/start_session': 'streaming.start',
    'streaming/send_task': 'streaming.task',
    'streaming/submit_ice': 'streaming.ice',
    'streaming/close_session': 'streaming.stop',
    'streaming/list_sessions': 'streaming.list',
  };

  const errorBody = (kind: 'rateLimited' | 'internal') => ({ code: HEYGEN_ERRORS[kind].code, message: HEYGEN_ERRORS[kind].message });

  const server = createServer(async (req, res) => {
    // The browser calls the API with its session token, so the API answers cross-origin requests.
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type, x-api-key',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    try {
      if (await handleFaultControl(req, res, faults)) return;
      const url = new URL(req.url ?? '/', 'http://local');
      if (url.pathname === '/_tasks' && req.method === 'GET') {
        sendJson(res, 200, { tasks });
        return;
      }
      if (url.pathname === '/_sessions' && req.method === 'GET') {
        sendJson(res, 200, { open: open().length, sessions: open().map((s) => ({ session_id: s.id, status: s.status })) });
        return;
      }
      const m = /^\/v1\/(.+)$/.exec(url.pathname);
      const name = m ? (aliases[m[1]] ?? m[1]) : '';
      const route = routes[`${req.method} ${name}`];
      if (!route) {
        const known = Object.keys(routes).some((k) => k.endsWith(` ${name}`));
        throw new HeygenError(known ? 'methodNotAllowed' : 'notFound');
      }
      const fault = faults.take(url.pathname, ['rate-limit', 'server-error', 'stall', 'drop', 'lose-answer']);
      if (fault && answerFault(res, fault, errorBody)) return;
      const body = req.method === 'POST' ? await readJsonBody(req, 64 * 1024) : {};
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new HeygenError('invalidParameter', 'body must be a JSON object');
      }
      await route(req, res, body as Record<string, unknown>);
    } catch (err) {
      if (res.headersSent) return;
      let kind: ErrorName = 'internal';
      let message: string = HEYGEN_ERRORS.internal.message;
      if (err instanceof HeygenError) {
        kind = err.kind;
        message = err.message;
      } else if (err instanceof BodyError) {
        kind = err.status === 413 ? 'tooLarge' : 'invalidParameter';
        message = `${HEYGEN_ERRORS[kind].message}: ${err.message}`;
      } else {
        console.error('heygen stand-in:', err);
      }
      const e = HEYGEN_ERRORS[kind];
      sendJson(res, e.status, { code: e.code, message });
    }
  });

  selfUrl = await listenLocally(server, options.host, options.port);

  return {
    url: selfUrl,
    faults,
    get openSessions() {
      return open().length;
    },
    tasks,
    interrupts,
    closedReason: (id) => sessions.get(id)?.closedReason,
    async close() {
      await Promise.all(open().map((s) => closeSession(s, 'stopped')));
      await closeServer(server);
    },
  };
}
