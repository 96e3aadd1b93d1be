// `POST /session/close`: the browser is done (often a sendBeacon on pagehide, hence text/plain and
// the key in the body rather than a header); the avatar session is stopped now, not by the reaper.
import { BrokerHttpError } from '../errors.js';
import { jsonResponse, readJsonObject } from '../http.js';
import type { RouteHandler } from './context.js';

/** Close requests carry two short strings. */
const CLOSE_BODY_LIMIT = 2048;

export const closeSession: RouteHandler = async (req, ctx, { ledger }) => {
  const { sessionId, sessionKey } = await readJsonObject(req, CLOSE_BODY_LIMIT, ['text/plain', 'application/json']);
  if (typeof sessionId !== 'string' || !sessionId || sessionId.length > 200) throw new BrokerHttpError('bad_request', '"sessionId" must be a non-empty string');
  if (typeof sessionKey !== 'string' || !sessionKey || sessionKey.length > 200) throw new BrokerHttpError('bad_request', '"sessionKey" must be a non-empty string');
  await ledger.closeByClient(sessionId, sessionKey);
  return jsonResponse(200, { closed: true }, ctx.cors);
};
