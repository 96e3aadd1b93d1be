// `POST /session`: one avatar session and one STT token, minted in parallel, answered with only
// session-scoped credentials. A session the avatar service created is stopped again when anything
// after it fails, and one whose creation answer was lost is looked up and stopped: sessions are
// billed until stopped.
import type { AvatarAccess, SessionResponse } from '../../shared/contract.js';
import { BrokerHttpError, ClientGoneError, UpstreamError } from '../errors.js';
import { jsonResponse, publicBase, readJsonObject } from '../http.js';
import { newSessionKey } from '../ledger.js';
import { AvatarSessionInDoubtError, OrphanedAvatarSessionError } from '../upstreams/avatar-upstream.js';
import { validateSessionRequest } from '../validate.js';
import { PATHS, type RouteHandler } from './context.js';

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

export const createSession: RouteHandler = async (req, ctx, { config: cfg, ledger, avatar, deepgram, rateLimit, log, redact }) => {
  await rateLimit('session', ctx.client, cfg.rateLimits.session, ctx.client);
  const params = validateSessionRequest(await readJsonObject(req, cfg.maxBodyBytes, ['application/json'], true), cfg);
  const { sessionKey, ref } = newSessionKey();
  const t0 = cfg.now();
  await ledger.reserve(ref, ctx.client);

  let createdId: string | undefined;
  try {
    const [created, stt] = await Promise.allSettled([
      // Noted as the broker's the moment its id arrives, so the reaper can find it whatever happens next.
      avatar.create(params, { idleTimeoutSeconds: cfg.idleTimeoutSeconds, maxSessionSeconds: cfg.maxSessionSeconds }).then(async (session) => {
        await ledger.own(session.sessionId).catch((err: unknown) => {
          throw new OrphanedAvatarSessionError(session.sessionId, err);
        });
        return session;
      }),
      deepgram.grant(),
    ]);
    if (created.status === 'rejected') throw created.reason;
    createdId = created.value.sessionId;
    if (stt.status === 'rejected') throw stt.reason;
    if (req.signal.aborted) throw new ClientGoneError();

    const durationSeconds = Math.min(cfg.maxSessionSeconds, created.value.durationLimitSeconds ?? Infinity);
    const record = await ledger.record({ ref, sessionId: createdId, clientId: ctx.client, avatarId: params.avatarId }, durationSeconds);
    const base = publicBase(req, cfg);
    const body: BrokerSessionResponse = {
      sessionId: record.sessionId,
      sessionKey,
      // A custom upstream's block is its own provider's; the widget picks the provider by `provider`.
      avatar: created.value.access as AvatarAccess,
      stt: { provider: 'deepgram', url: cfg.deepgram.apiBase, token: stt.value.token, expiresIn: stt.value.expiresIn, refreshUrl: `${base}${PATHS.sttToken}` },
      ...(cfg.llm ? { llm: { url: `${base}${PATHS.llm}` } } : {}),
      limits: { sessionDurationSeconds: durationSeconds, idleTimeoutSeconds: cfg.idleTimeoutSeconds },
      heartbeat: { url: `${base}${PATHS.heartbeat}`, intervalSeconds: Math.max(1, Math.floor(cfg.abandonAfterSeconds / 3)) },
      closeUrl: `${base}${PATHS.close}`,
    };
    log('info', 'session_created', {
      sessionId: record.sessionId,
      provider: avatar.provider,
      client: ctx.client,
      origin: ctx.origin,
      avatarId: params.avatarId,
      quality: params.quality,
      language: params.language,
      sttModel: params.sttModel,
      ms: cfg.now() - t0,
    });
    return jsonResponse(200, body, ctx.cors);
  } catch (thrown) {
    const err = thrown instanceof OrphanedAvatarSessionError || thrown instanceof AvatarSessionInDoubtError ? thrown.cause : thrown;
    const reason = err instanceof ClientGoneError ? 'client_gone' : 'create_failed';
    const orphanId = thrown instanceof OrphanedAvatarSessionError ? thrown.sessionId : createdId;
    if (orphanId) await ledger.stopOrphan(orphanId, ref, ctx.client, reason);
    else if (thrown instanceof AvatarSessionInDoubtError) await ledger.settleInDoubt(thrown.lookup, ref, ctx.client, reason);
    else await ledger.release(ref, ctx.client);
    if (err instanceof ClientGoneError) {
      log('info', 'session_create_abandoned', { client: ctx.client });
      throw new BrokerHttpError('bad_request', 'the client went away');
    }
    if (err instanceof UpstreamError) log('warn', 'session_create_failed', { client: ctx.client, ...err.logFields(redact) });
    throw err;
  }
};
