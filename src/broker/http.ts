// Request plumbing of the broker's Fetch API handler: bodies read under a size limit, origins
// checked, CORS headers, client addresses, JSON and error answers.
import { BrokerHttpError } from './errors.js';
import type { ResolvedBrokerConfig } from './config.js';

/**
 * Reads the body as text, at most `limit` bytes. Refuses before reading when Content-Length says
 * more, and stops reading (and cancels the stream) as soon as a body without one goes over.
 */
export async function readBodyText(req: Request, limit: number): Promise<string> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let step: ReadableStreamReadResult<Uint8Array>;
    try {
      step = await reader.read();
    } catch {
      throw new BrokerHttpError('bad_request', 'the request body could not be read');
    }
    if (step.done) break;
    size += step.value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(step.value);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(concat(chunks, size));
}

function tooLarge(limit: number): BrokerHttpError {
  return new BrokerHttpError('payload_too_large', `the request body is larger than ${limit} bytes`);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Reads a JSON object body. `types` lists the media types accepted (`application/json`, and
 * `text/plain` for sendBeacon). An empty body is `{}` only when `emptyOk`.
 */
export async function readJsonObject(req: Request, limit: number, types: readonly string[], emptyOk = false): Promise<Record<string, unknown>> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const unsupported = () =>
    new BrokerHttpError('unsupported_media_type', `send the body as ${types.join(' or ')}${type ? `, not ${type}` : ''}`);
  if (type && !types.includes(type)) throw unsupported();
  let text: string;
  try {
    text = await readBodyText(req, limit);
  } catch (err) {
    if (err instanceof TypeError) throw new BrokerHttpError('bad_request', 'the request body is not UTF-8 text');
    throw err;
  }
  if (!text.trim()) {
    if (emptyOk) return {};
    throw new BrokerHttpError('bad_request', 'the request body is empty; send a JSON object');
  }
  if (!type) throw unsupported();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BrokerHttpError('invalid_json', 'the request body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new BrokerHttpError('bad_request', 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** How a request's origin was judged. */
export type OriginVerdict = { allowed: true; origin: string | null } | { allowed: false; origin: string | null };

/** Checks the `Origin` header against the allow-list (and the broker's own origin, when allowed). */
export function checkOrigin(req: Request, config: ResolvedBrokerConfig): OriginVerdict {
  const origin = req.headers.get('origin');
  if (origin === null) return { allowed: config.allowNoOrigin, origin };
  if (config.allowAnyOrigin) return { allowed: true, origin };
  if (config.allowedOrigins.includes(origin)) return { allowed: true, origin };
  if (config.allowSameOrigin && origin === ownOrigin(req, config)) return { allowed: true, origin };
  return { allowed: false, origin };
}

/**
 * The broker's own origin, scheme included: `publicUrl`'s when set. Without it, the request's
 * (its Host header) only when that host is an IP address or `localhost`: a Host with a name is
 * the client's word, and a DNS-rebinding page sends its own name with a matching Origin.
 */
function ownOrigin(req: Request, config: ResolvedBrokerConfig): string | undefined {
  if (config.publicUrl) return config.publicUrl;
  const url = new URL(req.url);
  const literal = url.hostname === 'localhost' || url.hostname.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(url.hostname);
  return literal ? url.origin : undefined;
}

/** CORS headers for an allowed cross-origin request: the origin echoed (or `*`), never credentials. */
export function corsHeaders(origin: string | null, config: ResolvedBrokerConfig): Record<string, string> {
  const headers: Record<string, string> = { vary: 'Origin' };
  if (origin === null) return headers;
  headers['access-control-allow-origin'] = config.allowAnyOrigin ? '*' : origin;
  headers['access-control-expose-headers'] = 'Retry-After';
  return headers;
}

/** The client's address, by the configured rule (see BrokerConfig.trustProxy / getClientIp). */
export function clientAddress(req: Request, config: ResolvedBrokerConfig, info?: HandlerInfo): string {
  const fromHook = config.getClientIp?.(req);
  if (fromHook) return normalizeIp(fromHook);
  const tp = config.trustProxy;
  if (typeof tp === 'number') {
    const hops = (req.headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    // The nearest trusted proxy appended the address it saw; each further proxy appended one more.
    const ip = hops[hops.length - tp];
    if (ip) return normalizeIp(ip);
  } else if (typeof tp === 'string') {
    const ip = req.headers.get(tp)?.split(',')[0]?.trim();
    if (ip) return normalizeIp(ip);
  }
  const direct = info?.clientIp ?? info?.remoteAddr?.hostname;
  return direct ? normalizeIp(direct) : 'unknown';
}

/** What a runtime may pass beside the request: Node adapters `{clientIp}`, Deno `{remoteAddr}`. */
export interface HandlerInfo {
  clientIp?: string;
  remoteAddr?: { hostname?: string };
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; keeps only characters an address has (the result names Redis keys). */
export function normalizeIp(ip: string): string {
  const v = ip.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').replace(/^\[|\]$/g, '');
  return /^[0-9A-Za-z.:_-]{1,64}$/.test(v) ? v : 'invalid';
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers },
  });
}

export function errorResponse(err: BrokerHttpError, headers: Record<string, string> = {}): Response {
  return jsonResponse(err.status, err.body(), {
    ...headers,
    ...err.headers,
    ...(err.retryAfter !== undefined ? { 'retry-after': String(err.retryAfter) } : {}),
  });
}

/** The Bearer token of `Authorization`, if any. */
export function bearer(req: Request): string | undefined {
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(req.headers.get('authorization') ?? '');
  return m?.[1];
}

/** Reads and drops a body nobody needs (refresh and heartbeat carry none); more than 1 KiB is refused. */
export async function drain(req: Request): Promise<void> {
  if (req.body && !req.bodyUsed) await readBodyText(req, 1024);
}

/** Where browsers reach the routes: `publicUrl` when set, else the request's origin (as forwarded, when proxies are trusted), plus the base path. */
export function publicBase(req: Request, config: ResolvedBrokerConfig): string {
  if (config.publicUrl) return `${config.publicUrl}${config.basePath}`;
  const url = new URL(req.url);
  if (config.trustProxy !== false) {
    const proto = req.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
    const host = req.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
    if (proto === 'http' || proto === 'https') url.protocol = `${proto}:`;
    if (host && /^[A-Za-z0-9.:[\]-]+$/.test(host)) url.host = host;
  }
  return `${url.origin}${config.basePath}`;
}
