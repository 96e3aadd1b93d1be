// `POST /session/heartbeat`: the widget says its session is alive, so the reaper leaves it running.
import { bearer, drain } from '../http.js';
import type { RouteHandler } from './context.js';

export const heartbeat: RouteHandler = async (req, ctx, { ledger, log }) => {
  await drain(req);
  const record = await ledger.authorize(bearer(req));
  log('debug', 'heartbeat', { sessionId: record.sessionId, client: ctx.client });
  return new Response(null, { status: 204, headers: { ...ctx.cors, 'cache-control': 'no-store' } });
};
