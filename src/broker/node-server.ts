// The broker on `node:http`: IncomingMessage → Request, Response → ServerResponse, with streamed
// bodies both ways, the request's signal aborted when the client disconnects, the socket address
// as the client address, and (optionally) static files beside the routes.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { BrokerConfig } from './config.js';
import { createSessionBroker, type SessionBroker } from './handler.js';

export interface NodeListenerOptions {
  /** Serve files from this directory for GET/HEAD requests outside the broker's base path. */
  staticDir?: string;
  /** The broker's base path (default `/api/avatar`), to tell broker requests from static ones. */
  basePath?: string;
}

/**
 * A `(req, res)` listener for `node:http` (and Express, whose req/res extend Node's) that hands
 * every request to `broker.handle`. Mount it before any body parser.
 */
export function createNodeListener(broker: Pick<SessionBroker, 'handle'>, options: NodeListenerOptions = {}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const staticRoot = options.staticDir ? resolve(options.staticDir) : undefined;
  const basePath = `/${(options.basePath ?? '/api/avatar').replace(/^\/+|\/+$/g, '')}`;
  return async (req, res) => {
    const rawUrl = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    if (staticRoot && (req.method === 'GET' || req.method === 'HEAD')) {
      const path = rawUrl.split('?')[0];
      if (path !== basePath && !path.startsWith(`${basePath}/`)) {
        serveStatic(staticRoot, path, req, res);
        return;
      }
    }
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
    try {
      request = toRequest(req, res, rawUrl, aborter.signal);
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
  };
}

function toRequest(req: IncomingMessage, res: ServerResponse, rawUrl: string, signal: AbortSignal): Request {
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
    ...(hasBody ? { body: bodyStream(req, res), duplex: 'half' } : {}),
  } as RequestInit);
}

/**
 * The request body as a web stream with back-pressure. Cancelling it (the broker stops reading an
 * oversized body) discards the rest instead of destroying the socket, so the error answer still
 * reaches the client; the connection is closed after it.
 */
function bodyStream(req: IncomingMessage, res: ServerResponse): ReadableStream<Uint8Array> {
  let onData: (chunk: Buffer) => void = () => undefined;
  let onEnd: () => void = () => undefined;
  let onError: (err: Error) => void = () => undefined;
  const detach = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onData = (chunk) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 1) <= 0) req.pause();
        };
        onEnd = () => {
          detach();
          controller.close();
        };
        onError = (err) => {
          detach();
          controller.error(err);
        };
        req.on('data', onData);
        req.once('end', onEnd);
        req.once('error', onError);
        req.pause();
      },
      pull() {
        req.resume();
      },
      cancel() {
        detach();
        req.on('error', () => undefined);
        res.shouldKeepAlive = false;
        req.resume();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
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

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

function serveStatic(root: string, urlPath: string, req: IncomingMessage, res: ServerResponse): void {
  const notFound = () => {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : 'not found');
  };
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return notFound();
  }
  if (rel.includes('\0')) return notFound();
  let file = resolve(join(root, rel));
  if (file !== root && !file.startsWith(root + sep)) return notFound();
  try {
    let st = statSync(file);
    if (st.isDirectory()) {
      file = join(file, 'index.html');
      st = statSync(file);
    }
    if (!st.isFile()) return notFound();
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': st.size,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  } catch {
    notFound();
  }
}

export interface BrokerServerOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Also serve the files of this directory (GET/HEAD outside the base path), e.g. a demo page. */
  staticDir?: string;
}

export interface BrokerServer {
  /** `http://host:port` */
  url: string;
  broker: SessionBroker;
  /** Stops accepting requests, closes the broker (and, with an unshared store, its sessions). */
  close(): Promise<void>;
}

/** Starts the broker on `node:http`. */
export async function startBrokerServer(config: BrokerConfig, options: BrokerServerOptions = {}): Promise<BrokerServer> {
  const broker = createSessionBroker(config);
  const listener = createNodeListener(broker, { ...(options.staticDir ? { staticDir: options.staticDir } : {}), ...(config.basePath ? { basePath: config.basePath } : {}) });
  const server = createServer((req, res) => void listener(req, res));
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 15_000;
  server.requestTimeout = 60_000;
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
