// `POST /session/stt-token`: a fresh Deepgram token for an open session (the widget reconnects
// its transcription socket with it). Counts as a sign of life.
import type { SttTokenResponse } from '../../shared/contract.js';
import { bearer, drain, jsonResponse } from '../http.js';
import type { RouteHandler } from './context.js';

export const refreshSttToken: RouteHandler = async (req, ctx, { config, ledger, deepgram, rateLimit, log }) => {
  await drain(req);
  const record = await ledger.authorize(bearer(req));
  await rateLimit('stt', record.ref, config.rateLimits.sttToken, ctx.client);
  const grant = await deepgram.grant();
  log('debug', 'stt_token_refreshed', { sessionId: record.sessionId, client: ctx.client });
  const body: SttTokenResponse = { token: grant.token, expiresIn: grant.expiresIn };
  return jsonResponse(200, body, ctx.cors);
};
