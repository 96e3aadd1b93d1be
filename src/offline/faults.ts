// Faults on demand for the offline stand-ins: a test (or a developer) arms faults through
// `POST /_faults` on any stand-in, and the next matching calls fail the way the real service does.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultKind =
  /** HTTP 429 with Retry-After (seconds in `retryAfter`, default 1). */
  | 'rate-limit'
  /** HTTP 5xx (`status`, default 500) with the service's error envelope. */
  | 'server-error'
  /** Accept the request and never answer (until the client gives up or the server closes). */
  | 'stall'
  /** WebSocket / stream: close the connection abruptly after `afterMs` (default 0). */
  | 'drop'
  /** Avatar sessions: the session expires as if its duration limit had run out. */
  | 'expire'
  /** REST: the call does its work, but the answer is lost: the connection drops instead (after `afterMs`, default 0). */
  | 'lose-answer';

export interface Fault {
  kind: FaultKind;
  /** Only calls whose path contains this string (default: any call of this stand-in). */
  path?: string;
  /** How many calls this fault applies to (default 1). */
  times?: number;
  status?: number;
  retryAfter?: number;
  afterMs?: number;
}

/** The armed faults of one stand-in. */
export class FaultPlan {
  #faults: Fault[] = [];

  arm(fault: Fault): void {
    if (!fault || typeof fault.kind !== 'string') throw new TypeError('fault.kind is required');
    this.#faults.push({ times: 1, ...fault });
  }

  clear(): void {
    this.#faults = [];
  }

  get pending(): readonly Fault[] {
    return this.#faults;
  }

  /** Takes (consumes one use of) the first armed fault matching `path`, if any. */
  take(path: string, kinds?: FaultKind[]): Fault | undefined {
    const i = this.#faults.findIndex(
      (f) => (!f.path || path.includes(f.path)) && (!kinds || kinds.includes(f.kind)),
    );
    if (i < 0) return undefined;
    const fault = this.#faults[i];
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.#faults.splice(i, 1);
    return fault;
  }
}

/**
 * Handles the control routes every stand-in shares; returns true when it answered.
 *   POST /_faults        body: a Fault, or {faults: Fault[]}   → 204
 *   DELETE /_faults      clears them                            → 204
 *   GET /_faults         the armed faults                       → 200 JSON
 */
export async function handleFaultControl(req: IncomingMessage, res: ServerResponse, plan: FaultPlan): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://local');
  if (url.pathname !== '/_faults') return false;
  if (req.method === 'GET') {
    sendJson(res, 200, { faults: plan.pending });
  } else if (req.method === 'DELETE') {
    plan.clear();
    res.writeHead(204).end();
  } else if (req.method === 'POST') {
    try {
      const body = (await readJsonBody(req, 16 * 1024)) as Fault | { faults: Fault[] };
      for (const f of 'faults' in body ? body.faults : [body]) plan.arm(f);
      res.writeHead(204).end();
    } catch (err) {
      sendJson(res, 400, { error: (err as Error).message });
    }
  } else {
    res.writeHead(405, { allow: 'GET, POST, DELETE' }).end();
  }
  return true;
}

/**
 * Answers a request with an armed REST fault, in the service's own error envelope (`body`);
 * returns false when the request is still to be served: for kinds that are not about REST
 * answers (`expire`), and for `lose-answer`, whose answer `res` then swallows.
 */
export function answerFault(res: ServerResponse, fault: Fault, body: (kind: 'rateLimited' | 'internal') => unknown): boolean {
  switch (fault.kind) {
    case 'rate-limit':
      sendJson(res, 429, body('rateLimited'), { 'retry-after': String(fault.retryAfter ?? 1) });
      return true;
    case 'server-error':
      sendJson(res, fault.status ?? 500, body('internal'));
      return true;
    case 'stall':
      return true;
    case 'drop':
      res.socket?.destroy();
      return true;
    case 'lose-answer': {
      // Whatever the call answers never leaves: the connection drops in its place.
      const drop = () => setTimeout(() => res.socket?.destroy(), fault.afterMs ?? 0);
      res.writeHead = (() => res) as unknown as ServerResponse['writeHead'];
      res.end = (() => {
        drop();
        return res;
      }) as unknown as ServerResponse['end'];
      return false;
    }
    default:
      return false;
  }
}

/** Listens on `host:port` (default 127.0.0.1, a free port); resolves with the base URL. */
export async function listenLocally(server: Server, host = '127.0.0.1', port = 0): Promise<string> {
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

/** Drops every connection (stalled requests too) and stops listening. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a JSON body of at most `limit` bytes; throws BodyError(413) if larger, BodyError(400) if not JSON. */
export async function readJsonBody(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyError(400, 'body is not valid JSON');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
