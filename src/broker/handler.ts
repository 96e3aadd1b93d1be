// The session broker as a Fetch API handler (`Request → Response`): mints one avatar session's
// short-lived credentials, records the session, caps concurrency, limits rates, reaps abandoned
// sessions, and serves the optional LLM route. Every API key stays here (DESIGN.md §3, §5).
import { createHash, randomBytes } from 'node:crypto';
import type { SessionResponse, SttTokenResponse } from '../shared/contract.js';
import { resolveConfig, type BrokerConfig, type RateLimit, type ResolvedBrokerConfig } from './config.js';
import { BrokerHttpError, UpstreamError } from './errors.js';
import {
  bearer,
  checkOrigin,
  clientAddress,
  corsHeaders,
  errorResponse,
  jsonResponse,
  readBodyText,
  readJsonObject,
  type HandlerInfo,
} from './http.js';
import { ClientGoneError, openLlmStream } from './llm.js';
import { makeRedactor, type LogEntry, type LogLevel } from './log.js';
import { RedisStore } from './redis-store.js';
import { MemoryStore, type SessionRecord, type SessionStore } from './store.js';
import { DeepgramClient, HeygenClient, type HeygenSession } from './upstream.js';
import { validateLlmRequest, validateSessionRequest } from './validate.js';

/**
 * The session answer this broker sends: the contract's `SessionResponse` plus `heartbeat`, where
 * the widget reports that the session is alive (see docs/broker.md).
 */
export interface BrokerSessionResponse extends SessionResponse {
  heartbeat: {
    /** `POST` with `Authorization: Bearer <sessionKey>` → 204. */
    url: string;
    /** How often to call it; a session silent for `abandonAfterSeconds` is closed. */
    intervalSeconds: number;
  };
}

export interface SessionBroker {
  /**
   * Answers one request. `info` is what a runtime knows beside the request: Node adapters pass
   * `{clientIp}`, Deno's `serve` passes `{remoteAddr}`; both are optional.
   */
  handle(req: Request, info?: HandlerInfo): Promise<Response>;
  /**
   * Stops the reaper (and closes the store if the broker made it). `closeSessions` (default: true
   * for a store no other instance shares) stops every recorded avatar session first.
   */
  close(options?: { closeSessions?: boolean }): Promise<void>;
  /** Runs the reaper once now; resolves with the number of sessions it closed. */
  reapNow(): Promise<number>;
}

const SESSION_PATH = '/session';
const REFRESH_PATH = '/session/stt-token';
const HEARTBEAT_PATH = '/session/heartbeat';
const CLOSE_PATH = '/session/close';
const LLM_PATH = '/llm';
const HEALTH_PATH = '/healthz';
const ROUTES: Record<string, string[]> = {
  [SESSION_PATH]: ['POST'],
  [REFRESH_PATH]: ['POST'],
  [HEARTBEAT_PATH]: ['POST'],
  [CLOSE_PATH]: ['POST'],
  [LLM_PATH]: ['POST'],
  [HEALTH_PATH]: ['GET', 'HEAD'],
};
/** Close requests carry two short strings. */
const CLOSE_BODY_LIMIT = 2048;
/** A stop that keeps failing is retried this many times before the record is dropped (HeyGen's own limits end the session). */
const MAX_STOP_ATTEMPTS = 10;
/** Sessions examined per reaper pass. */
const REAP_BATCH = 500;
const REAP_CONCURRENCY = 8;

interface RequestContext {
  origin: string | null;
  cors: Record<string, string>;
  client: string;
}

/** Creates the broker. Throws a BrokerConfigError listing every configuration problem. */
export function createSessionBroker(config: BrokerConfig): SessionBroker {
  const cfg: ResolvedBrokerConfig = resolveConfig(config);
  const clock = cfg.now;
  const ownStore = !cfg.store;
  const store: SessionStore = cfg.store ?? (cfg.redisUrl ? new RedisStore({ url: cfg.redisUrl, prefix: cfg.redisPrefix }) : new MemoryStore());
  const secrets = [cfg.heygen.apiKey, cfg.deepgram.apiKey, ...(cfg.llm ? [cfg.llm.apiKey] : [])];
  const redact = makeRedactor(secrets);
  const heygen = new HeygenClient(cfg.heygen.apiBase, cfg.heygen.apiKey, cfg.upstreamTimeoutMs, redact);
  const deepgram = new DeepgramClient(cfg.deepgram.apiBase, cfg.deepgram.apiKey, cfg.deepgram.tokenTtlSeconds, cfg.upstreamTimeoutMs, redact);
  /** How long a slot is held while its session is being created (upstream calls in flight). */
  const pendingSlotMs = cfg.upstreamTimeoutMs * 3 + 5000;
  /** How long one instance may take to stop a session before another may try. */
  const stopLeaseMs = cfg.upstreamTimeoutMs + 5000;

  const log = (level: LogLevel, event: string, fields: Record<string, unknown> = {}) => {
    const entry: LogEntry = { level, event, ...fields };
    try {
      cfg.logger(entry);
    } catch {
      // a failing logger must not fail requests
    }
  };

  // ── routes ───────────────────────────────────────────────────────────────────────────────

  async function handle(req: Request, info?: HandlerInfo): Promise<Response> {
    let ctx: RequestContext = { origin: null, cors: { vary: 'Origin' }, client: 'unknown' };
    try {
      const url = new URL(req.url);
      const path = url.pathname;
      if (cfg.basePath && path !== cfg.basePath && !path.startsWith(`${cfg.basePath}/`)) {
        throw new BrokerHttpError('not_found', `no route ${path}`);
      }
      const sub = path.slice(cfg.basePath.length).replace(/\/+$/, '') || '/';
      const methods = ROUTES[sub];
      if (!methods || (sub === LLM_PATH && !cfg.llm)) throw new BrokerHttpError('not_found', `no route ${path}`);

      if (sub === HEALTH_PATH) {
        if (!methods.includes(req.method)) throw methodNotAllowed(methods);
        return await health(req.method === 'HEAD');
      }

      const verdict = checkOrigin(req, cfg);
      ctx = { origin: verdict.origin, cors: verdict.allowed ? corsHeaders(verdict.origin, cfg) : { vary: 'Origin' }, client: clientAddress(req, cfg, info) };
      if (!verdict.allowed) {
        log('warn', 'origin_refused', { origin: verdict.origin, client: ctx.client, path: sub });
        throw new BrokerHttpError(
          'forbidden_origin',
          verdict.origin === null ? 'requests without an Origin header are not accepted' : `the origin ${verdict.origin} is not allowed to use this broker`,
        );
      }
      if (req.method === 'OPTIONS') return preflight(req, ctx, methods);
      if (!methods.includes(req.method)) throw methodNotAllowed(methods);

      switch (sub) {
        case SESSION_PATH:
          return await createSession(req, ctx);
        case REFRESH_PATH:
          return await refreshSttToken(req, ctx);
        case HEARTBEAT_PATH:
          return await heartbeat(req, ctx);
        case CLOSE_PATH:
          return await closeSession(req, ctx);
        default:
          return await llmRoute(req, ctx);
      }
    } catch (err) {
      return failure(err, ctx);
    }
  }

  function failure(err: unknown, ctx: RequestContext): Response {
    if (err instanceof BrokerHttpError) return errorResponse(err, ctx.cors);
    if (err instanceof UpstreamError) {
      log('error', 'upstream_failed', { ...err.logFields(), client: ctx.client });
      return errorResponse(err.toHttp(), ctx.cors);
    }
    log('error', 'internal_error', { message: redact(String((err as Error)?.message ?? err)), client: ctx.client });
    return errorResponse(new BrokerHttpError('internal_error', 'the session broker failed; try again later', 5), ctx.cors);
  }

  function methodNotAllowed(methods: string[]): BrokerHttpError {
    return new BrokerHttpError('method_not_allowed', `use ${methods.join(' or ')}`, undefined, { allow: [...methods, 'OPTIONS'].join(', ') });
  }

  function preflight(req: Request, ctx: RequestContext, methods: string[]): Response {
    const asked = req.headers.get('access-control-request-method');
    if (asked && !methods.includes(asked)) throw methodNotAllowed(methods);
    return new Response(null, {
      status: 204,
      headers: {
        ...ctx.cors,
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
        'access-control-allow-methods': [...methods, 'OPTIONS'].join(', '),
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '600',
      },
    });
  }

  async function health(head: boolean): Promise<Response> {
    try {
      const counts = await store.counts(clock());
      const res = jsonResponse(200, { status: 'ok', store: store.kind, ...counts });
      return head ? new Response(null, { status: 200, headers: res.headers }) : res;
    } catch (err) {
      log('error', 'health_failed', { message: redact(String((err as Error).message)) });
      return jsonResponse(503, { status: 'error', store: store.kind });
    }
  }

  async function rateLimit(kind: string, key: string, limit: RateLimit, ctx: RequestContext): Promise<void> {
    const r = await store.takeToken(`${kind}:${key}`, { capacity: limit.burst, refillPerSecond: limit.perMinute / 60 }, clock());
    if (r.ok) return;
    const after = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
    log('warn', 'rate_limited', { kind, client: ctx.client, retryAfter: after });
    throw new BrokerHttpError('rate_limited', `too many requests; retry in ${after} s`, after);
  }

  function publicBase(req: Request): string {
    if (cfg.publicUrl) return `${cfg.publicUrl}${cfg.basePath}`;
    const url = new URL(req.url);
    if (cfg.trustProxy !== false) {
      const proto = req.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
      const host = req.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
      if (proto === 'http' || proto === 'https') url.protocol = `${proto}:`;
      if (host && /^[A-Za-z0-9.:[\]-]+$/.test(host)) url.host = host;
    }
    return `${url.origin}${cfg.basePath}`;
  }

  async function createSession(req: Request, ctx: RequestContext): Promise<Response> {
    await rateLimit('session', ctx.client, cfg.rateLimits.session, ctx);
    const params = validateSessionRequest(await readJsonObject(req, cfg.maxBodyBytes, ['application/json'], true), cfg);
    const sessionKey = randomBytes(32).toString('base64url');
    const ref = refOf(sessionKey);
    const t0 = clock();
    const reserved = await store.reserveSlot(ref, ctx.client, { total: cfg.maxSessions, perClient: cfg.maxSessionsPerClient }, t0, t0 + pendingSlotMs);
    if (reserved === 'total') {
      log('warn', 'over_capacity', { client: ctx.client, maxSessions: cfg.maxSessions });
      throw new BrokerHttpError('over_capacity', 'every avatar session is in use; try again in a minute', 30);
    }
    if (reserved === 'client') {
      log('warn', 'client_over_capacity', { client: ctx.client, maxSessionsPerClient: cfg.maxSessionsPerClient });
      throw new BrokerHttpError('too_many_sessions', `this client already has ${cfg.maxSessionsPerClient} open session(s); close one first`, 30);
    }

    let created: HeygenSession | undefined;
    let orphanId: string | undefined;
    try {
      const avatar = (async () => {
        const token = await heygen.createToken();
        const session = await heygen.newSession(token, {
          quality: params.quality,
          avatar_id: params.avatarId,
          voice: { ...(params.voiceId ? { voice_id: params.voiceId } : {}), rate: params.voiceRate },
          version: 'v2',
          video_encoding: 'VP8',
          language: params.language,
          activity_idle_timeout: cfg.idleTimeoutSeconds,
        });
        created = session;
        return { token, session };
      })();
      const [a, stt] = await Promise.allSettled([avatar, deepgram.grant()]);
      if (a.status === 'rejected') {
        orphanId = (a.reason as { sessionId?: string })?.sessionId;
        throw a.reason;
      }
      if (stt.status === 'rejected') throw stt.reason;
      if (req.signal.aborted) throw new ClientGoneError();

      const now = clock();
      const durationSeconds = Math.min(cfg.maxSessionSeconds, a.value.session.durationLimit ?? Infinity);
      const record: SessionRecord = {
        ref,
        sessionId: a.value.session.sessionId,
        clientId: ctx.client,
        avatarId: params.avatarId,
        createdAt: now,
        deadline: now + durationSeconds * 1000,
        lastSeen: now,
      };
      // The slot outlives the deadline a little, so a session the reaper has not stopped yet still counts.
      await store.add(record, record.deadline + stopLeaseMs * 2);
      const base = publicBase(req);
      const body: BrokerSessionResponse = {
        provider: 'heygen-streaming',
        sessionId: record.sessionId,
        sessionKey,
        heygen: { apiBase: cfg.heygen.apiBase, token: a.value.token },
        livekit: { url: a.value.session.url, token: a.value.session.accessToken },
        stt: { provider: 'deepgram', url: cfg.deepgram.apiBase, token: stt.value.token, expiresIn: stt.value.expiresIn, refreshUrl: `${base}${REFRESH_PATH}` },
        ...(cfg.llm ? { llm: { url: `${base}${LLM_PATH}` } } : {}),
        limits: { sessionDurationSeconds: durationSeconds, idleTimeoutSeconds: cfg.idleTimeoutSeconds },
        closeUrl: `${base}${CLOSE_PATH}`,
        heartbeat: { url: `${base}${HEARTBEAT_PATH}`, intervalSeconds: Math.max(1, Math.floor(cfg.abandonAfterSeconds / 3)) },
      };
      log('info', 'session_created', {
        sessionId: record.sessionId,
        client: ctx.client,
        origin: ctx.origin,
        avatarId: params.avatarId,
        quality: params.quality,
        language: params.language,
        sttModel: params.sttModel,
        ms: clock() - t0,
      });
      return jsonResponse(200, body, ctx.cors);
    } catch (err) {
      const stopId = (created as HeygenSession | undefined)?.sessionId ?? orphanId;
      if (stopId) await stopOrphan(stopId, ref, ctx.client, err instanceof ClientGoneError ? 'client_gone' : 'create_failed');
      else await store.releaseSlot(ref, ctx.client).catch((e: Error) => log('error', 'slot_release_failed', { message: e.message }));
      if (err instanceof ClientGoneError) {
        log('info', 'session_create_abandoned', { client: ctx.client });
        throw new BrokerHttpError('bad_request', 'the client went away');
      }
      if (err instanceof UpstreamError) log('warn', 'session_create_failed', { client: ctx.client, ...err.logFields() });
      throw err;
    }
  }

  /**
   * Stops a HeyGen session whose creation failed half-way. If the stop fails too, the session is
   * recorded as due, so the reaper keeps trying: a leaked avatar session costs money.
   */
  async function stopOrphan(sessionId: string, ref: string, clientId: string, reason: string): Promise<void> {
    const now = clock();
    const record: SessionRecord = { ref, sessionId, clientId, avatarId: '', createdAt: now, deadline: now, lastSeen: now, closingUntil: now + stopLeaseMs, stopAttempts: 1 };
    try {
      const result = await heygen.stop(sessionId);
      await store.releaseSlot(ref, clientId);
      log('info', 'session_closed', { sessionId, reason, result });
    } catch (err) {
      log('error', 'session_stop_failed', { sessionId, reason, attempt: 1, ...(err instanceof UpstreamError ? err.logFields() : { message: redact(String((err as Error).message)) }) });
      await store.add(record, now + stopLeaseMs * MAX_STOP_ATTEMPTS * 2).catch((e: Error) => log('error', 'session_leak_risk', { sessionId, message: e.message }));
    }
  }

  /** The session a request's `Authorization: Bearer <sessionKey>` names, if it is open. */
  async function authorize(req: Request): Promise<SessionRecord> {
    const key = bearer(req);
    if (!key) throw new BrokerHttpError('unauthorized', 'send the session key as Authorization: Bearer <sessionKey>');
    const record = await store.get(refOf(key));
    const now = clock();
    if (!record || (record.closingUntil !== undefined) || record.deadline <= now) {
      throw new BrokerHttpError('unauthorized', 'unknown or closed session');
    }
    await store.touch(record.ref, now);
    return record;
  }

  async function refreshSttToken(req: Request, ctx: RequestContext): Promise<Response> {
    await drain(req);
    const record = await authorize(req);
    await rateLimit('stt', record.ref, cfg.rateLimits.sttToken, ctx);
    const grant = await deepgram.grant();
    log('debug', 'stt_token_refreshed', { sessionId: record.sessionId, client: ctx.client });
    const body: SttTokenResponse = { token: grant.token, expiresIn: grant.expiresIn };
    return jsonResponse(200, body, ctx.cors);
  }

  async function heartbeat(req: Request, ctx: RequestContext): Promise<Response> {
    await drain(req);
    const record = await authorize(req);
    log('debug', 'heartbeat', { sessionId: record.sessionId, client: ctx.client });
    return new Response(null, { status: 204, headers: { ...ctx.cors, 'cache-control': 'no-store' } });
  }

  async function closeSession(req: Request, ctx: RequestContext): Promise<Response> {
    const body = await readJsonObject(req, CLOSE_BODY_LIMIT, ['text/plain', 'application/json']);
    const { sessionId, sessionKey } = body;
    if (typeof sessionId !== 'string' || !sessionId || sessionId.length > 200) throw new BrokerHttpError('bad_request', '"sessionId" must be a non-empty string');
    if (typeof sessionKey !== 'string' || !sessionKey || sessionKey.length > 200) throw new BrokerHttpError('bad_request', '"sessionKey" must be a non-empty string');
    const ref = refOf(sessionKey);
    const record = await store.get(ref);
    if (!record || record.sessionId !== sessionId) throw new BrokerHttpError('not_found', 'no open session with this id and key');
    const now = clock();
    const claimed = await store.claim(ref, now, now + stopLeaseMs);
    // Not claimed: another request or the reaper is stopping it right now.
    if (claimed) await closeRecord(claimed, 'client_closed');
    return jsonResponse(200, { closed: true }, ctx.cors);
  }

  async function llmRoute(req: Request, ctx: RequestContext): Promise<Response> {
    const llm = cfg.llm!;
    const record = await authorize(req);
    await rateLimit('llm', ctx.client, cfg.rateLimits.llm, ctx);
    const messages = validateLlmRequest(await readJsonObject(req, cfg.maxLlmBodyBytes, ['application/json']), llm);
    const t0 = clock();
    let stream: ReadableStream<Uint8Array>;
    try {
      stream = await openLlmStream(llm, messages, req.signal, redact, (outcome) => {
        log(outcome.result === 'error' ? 'warn' : 'info', 'llm_stream', {
          sessionId: record.sessionId,
          client: ctx.client,
          provider: llm.provider,
          model: llm.model,
          result: outcome.result,
          deltas: outcome.deltas,
          chars: outcome.chars,
          ...(outcome.firstDeltaMs !== undefined ? { firstDeltaMs: outcome.firstDeltaMs } : {}),
          ms: clock() - t0,
          ...(outcome.error ? { upstream: outcome.error.logFields() } : {}),
        });
      });
    } catch (err) {
      if (err instanceof ClientGoneError) {
        log('info', 'llm_stream', { sessionId: record.sessionId, client: ctx.client, result: 'client_gone', deltas: 0 });
        throw new BrokerHttpError('bad_request', 'the client went away');
      }
      throw err;
    }
    return new Response(stream, {
      status: 200,
      headers: {
        ...ctx.cors,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store, no-transform',
        'x-accel-buffering': 'no',
      },
    });
  }

  // ── closing sessions ─────────────────────────────────────────────────────────────────────

  /** Stops a claimed session upstream and removes its record; false when the stop failed (retried later). */
  async function closeRecord(record: SessionRecord, reason: string): Promise<boolean> {
    const attempt = record.stopAttempts ?? 1;
    try {
      const result = await heygen.stop(record.sessionId);
      await store.remove(record.ref, record.clientId);
      log('info', 'session_closed', { sessionId: record.sessionId, client: record.clientId, reason, result, lifetimeMs: clock() - record.createdAt });
      return true;
    } catch (err) {
      const fields = err instanceof UpstreamError ? err.logFields() : { message: redact(String((err as Error).message)) };
      if (attempt >= MAX_STOP_ATTEMPTS) {
        log('error', 'session_stop_gave_up', { sessionId: record.sessionId, reason, attempt, ...fields });
        await store.remove(record.ref, record.clientId).catch(() => undefined);
      } else {
        log('error', 'session_stop_failed', { sessionId: record.sessionId, reason, attempt, ...fields });
      }
      return false;
    }
  }

  async function reapOnce(): Promise<number> {
    const now = clock();
    const abandonedBefore = now - cfg.abandonAfterSeconds * 1000;
    const refs = await store.due(now, abandonedBefore, REAP_BATCH);
    let closed = 0;
    let next = 0;
    const worker = async () => {
      while (next < refs.length) {
        const ref = refs[next++];
        const record = await store.claim(ref, now, now + stopLeaseMs, { abandonedBefore });
        if (!record) continue;
        const reason = (record.stopAttempts ?? 1) > 1 ? 'stop_retry' : record.deadline <= now ? 'duration_limit' : 'abandoned';
        if (await closeRecord(record, reason)) closed++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(REAP_CONCURRENCY, refs.length) }, worker));
    return closed;
  }

  let reaping: Promise<number> | undefined;
  function reap(): Promise<number> {
    if (reaping) return reaping;
    reaping = reapOnce()
      .catch((err: Error) => {
        log('error', 'reaper_failed', { message: redact(err.message) });
        return 0;
      })
      .finally(() => {
        reaping = undefined;
      });
    return reaping;
  }

  const timer = cfg.reapIntervalMs > 0 ? setInterval(() => void reap(), cfg.reapIntervalMs) : undefined;
  timer?.unref();
  let closed = false;

  return {
    handle,
    async reapNow() {
      await reaping;
      return reap();
    },
    async close(options = {}) {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      await reaping;
      if (options.closeSessions ?? !store.shared) {
        const now = clock();
        const refs = await store.list(100_000).catch(() => [] as string[]);
        await Promise.all(
          refs.map(async (ref) => {
            const record = await store.claim(ref, now, now + stopLeaseMs).catch(() => undefined);
            if (record) await closeRecord(record, 'shutdown');
          }),
        );
      }
      if (ownStore) await store.close();
    },
  };
}

/** The store key of a session: SHA-256 of its session key (the key itself is never stored). */
function refOf(sessionKey: string): string {
  return createHash('sha256').update(sessionKey).digest('hex');
}

/** Reads and drops a body nobody needs (refresh and heartbeat carry none); more than 1 KiB is refused. */
async function drain(req: Request): Promise<void> {
  if (req.body && !req.bodyUsed) await readBodyText(req, 1024);
}
