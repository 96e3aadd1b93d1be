// `GET|HEAD /healthz`: for load balancers and monitors; open to any caller (no Origin check), and
// 503 when the session store does not answer.
import { jsonResponse } from '../http.js';
import type { RouteHandler } from './context.js';

export const health: RouteHandler = async (req, _ctx, { config, store, log, redact }) => {
  try {
    const counts = await store.counts(config.now());
    const res = jsonResponse(200, { status: 'ok', store: store.kind, ...counts });
    return req.method === 'HEAD' ? new Response(null, { status: 200, headers: res.headers }) : res;
  } catch (err) {
    log('error', 'health_failed', { message: redact(String((err as Error).message)) });
    return jsonResponse(503, { status: 'error', store: store.kind });
  }
};
