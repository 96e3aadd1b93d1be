// The broker on `node:http`: IncomingMessage → Request, Response → ServerResponse, with streamed
// bodies both ways, the request's signal aborted when the client disconnects, and the socket
// address as the client address. The broker serves no files: pages come from the site's own server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { BrokerConfig } from './config.js';
import { createSessionBroker, type SessionBroker } from './handler.js';

/**
 * A `(req, res)` listener for `node:http` (and Express, whose req/res extend Node's) that hands
 * every request to `broker.handle`. Mount it before any body parser.
 */
export function createNodeListener(broker: Pick<SessionBroker, 'handle'>): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const rawUrl = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    if ((req as { _body?: unknown })._body === true) {
      // A body parser (express.json(), express.text()…) already consumed the stream.
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: { code: 'internal_error', message: 'the session broker is mounted after a body parser; mount it before express.json()' } }));
      return;
    }
    const aborter = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborter.abort();
    });
    let request: Request;
    const body = new RequestBody(req);
    try {
      request = toRequest(req, rawUrl, aborter.signal, body);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
      res.end(JSON.stringify({ error: { code: 'bad_request', message: 'malformed request URL or Host header' } }));
      return;
    }
    let response: Response;
    try {
      response = await broker.handle(request, { ...(req.socket.remoteAddress ? { clientIp: req.socket.remoteAddress } : {}) });
    } catch {
      response = new Response(JSON.stringify({ error: { code: 'internal_error', message: 'the session broker failed' } }), {
        status: 500,
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
    }
    await sendResponse(response, res);
    // An answer given without reading the whole body (a Content-Length over the limit, a refused
    // origin): the rest is read and dropped (see RequestBody.drop).
    if (!req.complete) body.drop();
  };
}

function toRequest(req: IncomingMessage, rawUrl: string, signal: AbortSignal, body: RequestBody): Request {
  const encrypted = (req.socket as TLSSocket).encrypted === true;
  const host = req.headers.host ?? `${req.socket.localAddress ?? '127.0.0.1'}:${req.socket.localPort ?? 80}`;
  const url = new URL(rawUrl, `${encrypted ? 'https' : 'http'}://${host}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(url, {
    method: req.method ?? 'GET',
    headers,
    signal,
    ...(hasBody ? { body: body.stream(), duplex: 'half' } : {}),
  } as RequestInit);
}

/** What a request may still send, read and dropped, after its body was refused (see `RequestBody.drop`). */
const DROP_BYTES = 32 * 1024 * 1024;

/** A request's body: as a web stream with back-pressure, or read and dropped. */
class RequestBody {
  readonly #req: IncomingMessage;
  #detach: () => void = () => undefined;
  #dropping = false;

  constructor(req: IncomingMessage) {
    this.#req = req;
  }

  stream(): ReadableStream<Uint8Array> {
    const req = this.#req;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          const onData = (chunk: Buffer) => {
            controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            if ((controller.desiredSize ?? 1) <= 0) req.pause();
          };
          const onEnd = () => {
            this.#detach();
            controller.close();
          };
          const onError = (err: Error) => {
            this.#detach();
            controller.error(err);
          };
          this.#detach = () => {
            req.off('data', onData);
            req.off('end', onEnd);
            req.off('error', onError);
          };
          req.on('data', onData);
          req.once('end', onEnd);
          req.once('error', onError);
          req.pause();
        },
        pull() {
          req.resume();
        },
        // The broker stopped reading (an oversized body).
        cancel: () => this.drop(),
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
    );
  }

  /**
   * Reads the rest of the body and drops it, the connection kept. Closing a socket while the
   * client is still sending resets it, and the reset can destroy the error answer before the
   * client reads it (about one 2 MiB request in three on loopback). A client that sends more than
   * `DROP_BYTES` after that is cut off.
   */
  drop(): void {
    if (this.#dropping) return;
    this.#dropping = true;
    this.#detach();
    const req = this.#req;
    req.on('error', () => undefined);
    let dropped = 0;
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.byteLength;
      if (dropped > DROP_BYTES) req.socket.destroy();
    });
    req.resume();
  }
}

async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  if (res.destroyed) {
    await response.body?.cancel().catch(() => undefined);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  if (!response.body) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    // A whole answer (JSON): send it with its length.
    let body: Buffer;
    try {
      body = Buffer.from(await response.arrayBuffer());
    } catch {
      res.destroy();
      return;
    }
    headers['content-length'] = String(body.byteLength);
    res.writeHead(response.status, headers);
    res.end(body);
    return;
  }
  res.writeHead(response.status, headers);
  res.flushHeaders();
  const reader = response.body.getReader();
  const onClose = () => {
    if (!res.writableFinished) reader.cancel().catch(() => undefined);
  };
  res.on('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        });
      }
    }
    res.end();
  } catch {
    // the body failed or the client went away: nothing more can be said
    res.destroy();
  } finally {
    res.off('close', onClose);
  }
}

export interface BrokerServerOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Connections open at once; more are dropped as they arrive. Default 512: under the usual limit
   * of 1024 open files, with room for the broker's own calls (avatar service, Deepgram, Redis).
   */
  maxConnections?: number;
  /**
   * Connections open at once from one address; more from it are dropped as they arrive. Default
   * 64, and no limit when `trustProxy` is set (every connection then comes from the proxy, which
   * should apply its own limit).
   */
  maxConnectionsPerAddress?: number;
  /** ms for a request's headers to arrive; default 15 000. */
  headersTimeoutMs?: number;
  /** ms for a whole request, body included; default 60 000. */
  requestTimeoutMs?: number;
}

export interface BrokerServer {
  /** `http://host:port` */
  url: string;
  broker: SessionBroker;
  /** Stops accepting requests, closes the broker (and, with an unshared store, its sessions). */
  close(): Promise<void>;
}

/** Drops a connection as it arrives when its address already has `max` open. */
function limitConnectionsPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/** Starts the broker on `node:http`. */
export async function startBrokerServer(config: BrokerConfig, options: BrokerServerOptions = {}): Promise<BrokerServer> {
  if ('staticDir' in options) throw new TypeError('startBrokerServer: staticDir was removed (the broker serves no files); serve pages with your web server or a static file handler');
  const broker = createSessionBroker(config);
  const listener = createNodeListener(broker);
  const headersTimeout = options.headersTimeoutMs ?? 15_000;
  const server = createServer(
    // Node checks the two timeouts only every connectionsCheckingInterval (30 s by default), so
    // they would fire up to that much late: check at least every second.
    { connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))) },
    (req, res) => void listener(req, res),
  );
  server.keepAliveTimeout = 5000;
  server.headersTimeout = headersTimeout;
  server.requestTimeout = options.requestTimeoutMs ?? 60_000;
  server.maxConnections = options.maxConnections ?? 512;
  const perAddress = options.maxConnectionsPerAddress ?? (config.trustProxy ? 0 : 64);
  if (perAddress > 0) limitConnectionsPerAddress(server, perAddress);
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8787, host, () => {
        server.off('error', reject);
        resolvePromise();
      });
    });
  } catch (err) {
    await broker.close({ closeSessions: false });
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    broker,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        await broker.close();
        server.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}
