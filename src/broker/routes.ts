// The broker's route table and what every request goes through before its route: the base path,
// the Origin check, CORS preflights, the method; and after it, failures turned into error answers
// (upstream details to the log only).
import { BrokerHttpError, UpstreamError } from './errors.js';
import { checkOrigin, clientAddress, corsHeaders, errorResponse, type HandlerInfo } from './http.js';
import { closeSession } from './routes/close.js';
import { PATHS, type BrokerContext, type RequestContext, type RouteHandler } from './routes/context.js';
import { health } from './routes/healthz.js';
import { heartbeat } from './routes/heartbeat.js';
import { llmRoute } from './routes/llm.js';
import { createSession } from './routes/session.js';
import { refreshSttToken } from './routes/stt-token.js';

interface Route {
  methods: string[];
  handle: RouteHandler;
  /** Answered for any origin, without CORS (health checks come from monitors, not pages). */
  anyOrigin?: boolean;
  /** Absent from this broker unless configured. */
  enabled?: (broker: BrokerContext) => boolean;
}

const ROUTES: Record<string, Route> = {
  [PATHS.session]: { methods: ['POST'], handle: createSession },
  [PATHS.sttToken]: { methods: ['POST'], handle: refreshSttToken },
  [PATHS.heartbeat]: { methods: ['POST'], handle: heartbeat },
  [PATHS.close]: { methods: ['POST'], handle: closeSession },
  [PATHS.llm]: { methods: ['POST'], handle: llmRoute, enabled: (broker) => broker.config.llm !== undefined },
  [PATHS.healthz]: { methods: ['GET', 'HEAD'], handle: health, anyOrigin: true },
};

/** Answers one request: finds its route, checks origin and method, and maps every failure to an error answer. */
export async function route(req: Request, info: HandlerInfo | undefined, broker: BrokerContext): Promise<Response> {
  const { config } = broker;
  let ctx: RequestContext = { origin: null, cors: { vary: 'Origin' }, client: 'unknown' };
  try {
    const path = new URL(req.url).pathname;
    if (config.basePath && path !== config.basePath && !path.startsWith(`${config.basePath}/`)) {
      throw new BrokerHttpError('not_found', `no route ${path}`);
    }
    const sub = path.slice(config.basePath.length).replace(/\/+$/, '') || '/';
    const found = Object.hasOwn(ROUTES, sub) ? ROUTES[sub] : undefined;
    if (!found || (found.enabled && !found.enabled(broker))) throw new BrokerHttpError('not_found', `no route ${path}`);

    if (found.anyOrigin) {
      if (!found.methods.includes(req.method)) throw methodNotAllowed(found.methods);
      return await found.handle(req, ctx, broker);
    }

    const verdict = checkOrigin(req, config);
    ctx = { origin: verdict.origin, cors: verdict.allowed ? corsHeaders(verdict.origin, config) : { vary: 'Origin' }, client: clientAddress(req, config, info) };
    if (!verdict.allowed) {
      broker.log('warn', 'origin_refused', { origin: verdict.origin, client: ctx.client, path: sub });
      throw new BrokerHttpError(
        'forbidden_origin',
        verdict.origin === null ? 'requests without an Origin header are not accepted' : `the origin ${verdict.origin} is not allowed to use this broker`,
      );
    }
    if (req.method === 'OPTIONS') return preflight(req, ctx, found.methods);
    if (!found.methods.includes(req.method)) throw methodNotAllowed(found.methods);
    return await found.handle(req, ctx, broker);
  } catch (err) {
    return failure(err, ctx, broker);
  }
}

function failure(err: unknown, ctx: RequestContext, { log, redact }: BrokerContext): Response {
  if (err instanceof BrokerHttpError) return errorResponse(err, ctx.cors);
  if (err instanceof UpstreamError) {
    log('error', 'upstream_failed', { ...err.logFields(redact), client: ctx.client });
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
