// Deepgram's live speech-to-text API, locally (DESIGN.md §6, §8): `POST /v1/auth/grant` and the
// `GET /v1/listen` WebSocket, with upstream's paths, auth, messages, error bodies and close codes,
// speech detected and recognised on this machine (espeak-ng phrase lists, see recognizer.ts), and
// faults on demand.
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { BodyError, FaultPlan, handleFaultControl, readJsonBody, sendJson, type Fault } from '../faults.js';
import { MAX_TOKEN_TTL_SECONDS, MIN_TOKEN_TTL_SECONDS, TokenIssuer } from './auth.js';
import { ListenStream } from './listen-stream.js';
import { DEEPGRAM_ERRORS, ListenParamError, parseListenParams, type DeepgramErrorBody } from './protocol.js';
import { DEFAULT_PHRASES, languageKey } from './phrases.js';
import { PhraseRecognizer } from './recognizer.js';

export interface DeepgramStandInOptions {
  /** Interface to listen on; default '127.0.0.1'. */
  host?: string;
  /** Port; default 0 (a free port, see `url`). */
  port?: number;
  /**
   * The long-lived API key, accepted as `Authorization: Token KEY` or subprotocols
   * `['token', KEY]`; default 'offline-deepgram-key'.
   */
  apiKey?: string;
  /**
   * The phrases the recogniser knows, by language (`en`, `ru`, any language espeak-ng speaks):
   * each speech segment (speech between pauses of 200 ms or more) in a stream's `language` comes
   * out as one of them, or empty. A language named here has its list replaced; the others keep
   * `DEFAULT_PHRASES`. A plain array is English's list.
   */
  phrases?: readonly string[] | Readonly<Record<string, readonly string[]>>;
  /** Phrases added to each language's list (the default one or the one given in `phrases`). */
  extraPhrases?: Readonly<Record<string, readonly string[]>>;
  /** Closes a stream (1011, NET-0001) that received neither audio nor text for this long; default 10 000 ms as upstream. */
  idleTimeoutMs?: number;
  /** Lifetime of a granted token when the request names no `ttl_seconds`; default 30. */
  defaultTokenTtlSeconds?: number;
}

/** A `/v1/listen` upgrade the stand-in accepted: what the client asked for. */
export interface ListenRecord {
  requestId: string;
  /** The query parameters as sent (`language`, `model`, `smart_format`…). */
  query: Record<string, string>;
  /** When the stream opened (epoch ms). */
  openedAt: number;
}

export interface DeepgramStandIn {
  /** Base URL, like `https://api.deepgram.com`: `http://127.0.0.1:PORT`. */
  url: string;
  /** WebSocket base URL, like `wss://api.deepgram.com`: `ws://127.0.0.1:PORT`. */
  wsUrl: string;
  /** Faults armed here (or through `POST /_faults`) apply to the grant route and the listen upgrade. */
  faults: FaultPlan;
  /** Live transcription streams currently open. */
  readonly openStreams: number;
  /** Every stream opened so far, oldest first. */
  readonly listens: readonly ListenRecord[];
  /** The phrases recognised in `language`, as listed (empty for a language with no list). */
  phrases(language: string): readonly string[];
  /**
   * Replaces `language`'s phrases (default `en`), resolving once they are rendered; rejects with a
   * TypeError for a list without words.
   */
  setPhrases(phrases: readonly string[], language?: string): Promise<void>;
  /** Closes every stream (1001), ends stalled requests, kills recogniser processes, stops listening. */
  close(): Promise<void>;
}

const DEFAULT_API_KEY = 'offline-deepgram-key';
const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
const DEFAULT_TOKEN_TTL_SECONDS = 30;
/** The grant body is `{ttl_seconds}`: anything much larger is not a grant request. */
const GRANT_BODY_LIMIT = 1024;
/** Largest WebSocket message accepted (upstream recommends 20–250 ms chunks; 1 MiB is 32 s at 16 kHz). */
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** How long `close()` waits for clients to answer the close frame before destroying their sockets. */
const CLOSE_GRACE_MS = 1000;

const LISTEN_PATH = '/v1/listen';
const GRANT_PATH = '/v1/auth/grant';

/** The phrase lists `options` ask for: the defaults, replaced and extended language by language. */
export function phraseLists(options: Pick<DeepgramStandInOptions, 'phrases' | 'extraPhrases'>): Record<string, string[]> {
  const given = Array.isArray(options.phrases) ? { en: options.phrases } : ((options.phrases ?? {}) as Record<string, readonly string[]>);
  const lists: Record<string, string[]> = {};
  for (const source of [DEFAULT_PHRASES, given]) {
    for (const [language, phrases] of Object.entries(source)) lists[languageKey(language)] = [...phrases];
  }
  for (const [language, phrases] of Object.entries(options.extraPhrases ?? {})) {
    const key = languageKey(language);
    lists[key] = [...(lists[key] ?? []), ...phrases];
  }
  return lists;
}

/**
 * Starts the Deepgram stand-in. Rejects if espeak-ng or sox is not installed, if a phrase list has
 * no words, or if the port cannot be bound.
 */
export async function startDeepgramStandIn(options: DeepgramStandInOptions = {}): Promise<DeepgramStandIn> {
  const host = options.host ?? '127.0.0.1';
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const defaultTtl = options.defaultTokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!(idleTimeoutMs > 0)) throw new RangeError(`idleTimeoutMs must be positive, got ${idleTimeoutMs}`);
  if (!validTtl(defaultTtl)) {
    throw new RangeError(`defaultTokenTtlSeconds must be between ${MIN_TOKEN_TTL_SECONDS} and ${MAX_TOKEN_TTL_SECONDS}, got ${defaultTtl}`);
  }
  const issuer = new TokenIssuer(options.apiKey ?? DEFAULT_API_KEY);
  const recognizer = await PhraseRecognizer.create(phraseLists(options));
  /** Languages streams asked for that have no phrases: said once on the console. */
  const unlisted = new Set<string>();
  const faults = new FaultPlan();
  const streams = new Map<WebSocket, ListenStream>();
  const listens: ListenRecord[] = [];
  /** Requests and upgrades held open by a `stall` fault. */
  const stalled = new Set<Duplex>();
  const requestIds = new WeakMap<IncomingMessage, string>();

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    // Auth was checked before the upgrade; answer with the scheme the client authenticated by.
    handleProtocols: (protocols) => (protocols.has('token') ? 'token' : protocols.has('bearer') ? 'bearer' : false),
  });
  wss.on('headers', (headers, req) => headers.push(`dg-request-id: ${requestIds.get(req)}`));

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    res.setHeader('dg-request-id', requestId);
    if (await handleFaultControl(req, res, faults)) return;
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (path === GRANT_PATH) return grant(req, res, requestId);
    if (path === LISTEN_PATH) {
      return sendError(res, requestId, { status: 426, err_code: 'Bad Request' }, 'The offline stand-in serves /v1/listen as a WebSocket only (live streaming).');
    }
    sendError(res, requestId, DEEPGRAM_ERRORS.notFound, `No route for ${req.method} ${path}.`);
  }

  async function grant(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendError(res, requestId, DEEPGRAM_ERRORS.methodNotAllowed, `${req.method} is not allowed on ${GRANT_PATH}; use POST.`);
    }
    const fault = faults.take(GRANT_PATH, ['rate-limit', 'server-error', 'stall', 'drop']);
    if (fault) return httpFault(fault, res, requestId);
    if (!issuer.checkApiKeyHeader(req)) return sendError(res, requestId, DEEPGRAM_ERRORS.invalidAuth);
    let body: unknown;
    try {
      body = await readJsonBody(req, GRANT_BODY_LIMIT);
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      return sendError(res, requestId, err.status === 413 ? DEEPGRAM_ERRORS.payloadTooLarge : DEEPGRAM_ERRORS.badRequest, `${err.message}.`);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendError(res, requestId, DEEPGRAM_ERRORS.badRequest, 'The body must be a JSON object: {"ttl_seconds": number}.');
    }
    const ttl = (body as { ttl_seconds?: unknown }).ttl_seconds ?? defaultTtl;
    if (!validTtl(ttl)) {
      return sendError(res, requestId, DEEPGRAM_ERRORS.badRequest, `ttl_seconds must be a number between ${MIN_TOKEN_TTL_SECONDS} and ${MAX_TOKEN_TTL_SECONDS}.`);
    }
    sendJson(res, 200, issuer.grant(ttl));
  }

  function httpFault(fault: Fault, res: ServerResponse, requestId: string): void {
    const socket = res.socket;
    if (fault.kind === 'stall') {
      if (socket) {
        stalled.add(socket);
        socket.once('close', () => stalled.delete(socket));
      }
      return;
    }
    if (fault.kind === 'drop') {
      socket?.destroy();
      return;
    }
    const { error, headers } = faultResponse(fault);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    sendError(res, requestId, error);
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, requestId: string): void {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== LISTEN_PATH) return rejectUpgrade(socket, requestId, DEEPGRAM_ERRORS.notFound, `No WebSocket route at ${url.pathname}.`);
    const fault = faults.take(LISTEN_PATH, ['rate-limit', 'server-error', 'stall', 'drop']);
    if (fault?.kind === 'stall') {
      stalled.add(socket);
      socket.once('close', () => stalled.delete(socket));
      return;
    }
    if (fault && fault.kind !== 'drop') {
      const { error, headers } = faultResponse(fault);
      return rejectUpgrade(socket, requestId, error, undefined, headers);
    }
    if (!issuer.checkListen(req)) return rejectUpgrade(socket, requestId, DEEPGRAM_ERRORS.invalidAuth);
    let params;
    try {
      params = parseListenParams(url.searchParams);
    } catch (err) {
      if (!(err instanceof ListenParamError)) throw err;
      return rejectUpgrade(socket, requestId, DEEPGRAM_ERRORS.badRequest, err.message);
    }
    const language = languageKey(params.language);
    if (language !== 'multi' && !recognizer.languages.includes(language) && !unlisted.has(language)) {
      unlisted.add(language);
      console.warn(`offline Deepgram: no phrases for language "${params.language}", so its speech comes out empty; list some (option phrases, heygen-avatar-dev --phrases ${language}=FILE)`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      listens.push({ requestId, query: Object.fromEntries(url.searchParams), openedAt: Date.now() });
      const stream = new ListenStream(ws, { params, requestId, recognizer, faults, idleTimeoutMs });
      streams.set(ws, stream);
      ws.on('close', () => streams.delete(ws));
      if (fault?.kind === 'drop') stream.dropAfter(fault.afterMs ?? 0);
    });
  }

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((err: Error) => {
      if (!res.headersSent) sendError(res, res.getHeader('dg-request-id') as string, DEEPGRAM_ERRORS.serverError, err.message);
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const requestId = randomUUID();
    requestIds.set(req, requestId);
    try {
      handleUpgrade(req, socket, head, requestId);
    } catch (err) {
      rejectUpgrade(socket, requestId, DEEPGRAM_ERRORS.serverError, (err as Error).message);
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await recognizer.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;

  return {
    url: `http://${hostPart}:${port}`,
    wsUrl: `ws://${hostPart}:${port}`,
    faults,
    get openStreams() {
      return streams.size;
    },
    listens,
    phrases(language: string) {
      return recognizer.phrases(language);
    },
    setPhrases(phrases: readonly string[], language = 'en') {
      return recognizer.setPhrases(language, phrases);
    },
    close() {
      closed ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const socket of stalled) socket.destroy();
        stalled.clear();
        const streamsClosed = [...streams.keys()].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
        for (const stream of streams.values()) stream.shutdown();
        const grace = setTimeout(() => {
          for (const ws of streams.keys()) ws.terminate();
        }, CLOSE_GRACE_MS);
        await Promise.all(streamsClosed);
        clearTimeout(grace);
        await recognizer.close();
        await serverClosed;
      })();
      return closed;
    },
  };
}

function validTtl(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= MIN_TOKEN_TTL_SECONDS && value <= MAX_TOKEN_TTL_SECONDS;
}

interface ErrorKind {
  status: number;
  err_code: string;
  err_msg?: string;
}

function errorBody(kind: ErrorKind, requestId: string, message?: string): DeepgramErrorBody {
  return { err_code: kind.err_code, err_msg: message ?? kind.err_msg ?? STATUS_CODES[kind.status] ?? 'Error', request_id: requestId };
}

function sendError(res: ServerResponse, requestId: string, kind: ErrorKind, message?: string): void {
  sendJson(res, kind.status, errorBody(kind, requestId, message));
}

/** The HTTP answer of a `rate-limit` or `server-error` fault. */
function faultResponse(fault: Fault): { error: ErrorKind; headers: Record<string, string> } {
  if (fault.kind === 'rate-limit') {
    return { error: DEEPGRAM_ERRORS.tooManyRequests, headers: { 'retry-after': String(fault.retryAfter ?? 1) } };
  }
  return { error: { ...DEEPGRAM_ERRORS.serverError, status: fault.status ?? DEEPGRAM_ERRORS.serverError.status }, headers: {} };
}

/** Answers a WebSocket upgrade with an HTTP error, as upstream does before the handshake. */
function rejectUpgrade(socket: Duplex, requestId: string, kind: ErrorKind, message?: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(errorBody(kind, requestId, message));
  const lines = [
    `HTTP/1.1 ${kind.status} ${STATUS_CODES[kind.status] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `dg-request-id: ${requestId}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    'connection: close',
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
