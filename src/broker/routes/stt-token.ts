// `POST /session/stt-token`: a fresh Deepgram token for an open session (the widget reconnects
// its transcription socket with it). Counts as a sign of life. Each token can open a Deepgram
// stream that outlives the session, so a session gets a bounded number: a burst and a rate
// (`rateLimits.sttToken`), and `sttTokensPerSession` in all.
import type { SttTokenResponse } from '../../shared/contract.js';
import { BrokerHttpError } from '../errors.js';
import { bearer, drain, jsonResponse } from '../http.js';
import type { RouteHandler } from './context.js';

export const refreshSttToken: RouteHandler = async (req, ctx, { config, store, ledger, deepgram, rateLimit, log }) => {
  await drain(req);
  const record = await ledger.authorize(bearer(req));
  await rateLimit('stt', record.ref, config.rateLimits.sttToken, ctx.client);
  const now = config.now();
  // The session answer carried the first token; the count lives as long as the session can.
  if (!(await store.countUse(`stt:${record.ref}`, config.sttTokensPerSession - 1, now, record.deadline - now + 60_000))) {
    log('warn', 'stt_budget_spent', { sessionId: record.sessionId, client: ctx.client, sttTokensPerSession: config.sttTokensPerSession });
    throw new BrokerHttpError('rate_limited', `this session has had its ${config.sttTokensPerSession} speech-to-text tokens; start a new session`);
  }
  const grant = await deepgram.grant();
  log('debug', 'stt_token_refreshed', { sessionId: record.sessionId, client: ctx.client });
  const body: SttTokenResponse = { token: grant.token, expiresIn: grant.expiresIn };
  return jsonResponse(200, body, ctx.cors);
};
