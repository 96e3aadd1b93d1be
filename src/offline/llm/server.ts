// The LLM stand-in (DESIGN.md §6, §8): Gemini- and OpenAI-compatible generation endpoints on one
// port, answering deterministic replies on a configurable clock (time to first token, tokens per
// second), with a call log and faults on demand. Same paths, auth, JSON shapes, SSE framing and
// error envelopes as upstream, so a client switches between it and the real service by base URL.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultPlan, handleFaultControl, readJsonBody, sendJson, BodyError, type FaultKind } from '../faults.js';
import { geminiProtocol } from './gemini.js';
import { openaiProtocol } from './openai.js';
import { ProtocolError, isRecord, splitTokens, type AcceptedRequest, type ChatMessage, type LlmProtocol } from './protocol.js';
import { checkReplies, chooseReply, repliesFromJson, repliesToJson, type ScriptedReply } from './replies.js';

export interface LlmStandInOptions {
  /** Interface to listen on; default '127.0.0.1'. */
  host?: string;
  /** Port; default 0 (a free port, see `url`). */
  port?: number;
  /** The Gemini key, accepted in the `x-goog-api-key` header or as `?key=`; default 'offline-gemini-key'. */
  geminiApiKey?: string;
  /** The OpenAI key, accepted as `Authorization: Bearer KEY`; default 'offline-openai-key'. */
  openaiApiKey?: string;
  /** Time from accepting a request to the first reply piece, in ms; default 300. */
  ttftMs?: number;
  /** Reply pieces (words with their spaces) per second after the first; default 40. */
  tokensPerSecond?: number;
  /** Scripted replies, checked in order (first match wins) before the default reply. */
  replies?: ScriptedReply[];
}

/** One accepted generation request (authenticated and valid), as the stand-in saw it. */
export interface LlmCall {
  provider: 'gemini' | 'openai';
  model: string;
  stream: boolean;
  /** The conversation in the provider's roles (Gemini `user`/`model`), system turns excluded, text parts joined. */
  messages: ChatMessage[];
  /** Gemini `systemInstruction`, or the OpenAI `system`/`developer` messages joined by blank lines. */
  system?: string;
  /** When the request was accepted (ms since the epoch). */
  at: number;
  /** Reply pieces written so far (streams) or answered (whole answers); updated while the call runs. */
  tokensSent: number;
  /**
   * `generating` until the call ends; then `completed`, `disconnected` (the connection closed
   * before the answer was complete: the client went away, or the stand-in closed), or `fault`
   * (an armed fault answered; see `fault`).
   */
  status: 'generating' | 'completed' | 'disconnected' | 'fault';
  /** The fault that answered this call. */
  fault?: FaultKind;
}

export interface LlmStandIn {
  /** Base URL for both APIs, like `https://generativelanguage.googleapis.com` / `https://api.openai.com`: `http://127.0.0.1:PORT`. */
  url: string;
  /**
   * Faults armed here (or through `POST /_faults`) apply to generation requests that passed auth
   * and validation, in the provider's error envelope: `rate-limit` (429 + Retry-After
   * `retryAfter`, default 1 s), `server-error` (`status` in 400–599, default 500; a 429 is
   * OpenAI's `insufficient_quota`), `stall` (a stream gets its headers, then nothing; a whole
   * answer gets nothing), `drop` (the connection is destroyed `afterMs`, default 0, after the
   * request was accepted, before any piece due then). A fault's `path` matches the URL path.
   */
  faults: FaultPlan;
  /** Every accepted request, oldest first. */
  readonly calls: readonly LlmCall[];
  /** Changes the clock or the script for calls accepted from now on; throws a RangeError or TypeError for bad values. */
  configure(options: Partial<Pick<LlmStandInOptions, 'ttftMs' | 'tokensPerSecond' | 'replies'>>): void;
  /** Ends every open connection (streams included) and stops listening. */
  close(): Promise<void>;
}

/** Largest request body accepted (larger ones get HTTP 413 in the provider's envelope). */
export const LLM_BODY_LIMIT_BYTES = 1024 * 1024;
const CONFIG_BODY_LIMIT_BYTES = 64 * 1024;
const DEFAULT_TTFT_MS = 300;
const DEFAULT_TOKENS_PER_SECOND = 40;
const FAULT_KINDS: FaultKind[] = ['rate-limit', 'server-error', 'stall', 'drop'];

/** What `configure()` changes; each call answers with a copy taken when it was accepted. */
interface Settings {
  ttftMs: number;
  tokensPerSecond: number;
  replies: ScriptedReply[];
}

/** Starts the LLM stand-in. Rejects with a RangeError or TypeError for bad options, or if the port cannot be bound. */
export async function startLlmStandIn(options: LlmStandInOptions = {}): Promise<LlmStandIn> {
  const host = options.host ?? '127.0.0.1';
  const settings: Settings = { ttftMs: DEFAULT_TTFT_MS, tokensPerSecond: DEFAULT_TOKENS_PER_SECOND, replies: [] };
  const configure: LlmStandIn['configure'] = (patch) => {
    const next = { ...settings };
    if (patch.ttftMs !== undefined) {
      if (!(typeof patch.ttftMs === 'number' && Number.isFinite(patch.ttftMs) && patch.ttftMs >= 0)) {
        throw new RangeError(`ttftMs must be a number of ms ≥ 0, got ${JSON.stringify(patch.ttftMs)}`);
      }
      next.ttftMs = patch.ttftMs;
    }
    if (patch.tokensPerSecond !== undefined) {
      if (!(typeof patch.tokensPerSecond === 'number' && Number.isFinite(patch.tokensPerSecond) && patch.tokensPerSecond > 0)) {
        throw new RangeError(`tokensPerSecond must be a number > 0, got ${JSON.stringify(patch.tokensPerSecond)}`);
      }
      next.tokensPerSecond = patch.tokensPerSecond;
    }
    if (patch.replies !== undefined) next.replies = checkReplies(patch.replies);
    Object.assign(settings, next);
  };
  configure({ ttftMs: options.ttftMs, tokensPerSecond: options.tokensPerSecond, replies: options.replies });

  const protocols: LlmProtocol[] = [
    geminiProtocol(options.geminiApiKey ?? 'offline-gemini-key'),
    openaiProtocol(options.openaiApiKey ?? 'offline-openai-key'),
  ];
  const faults = new FaultPlan();
  const calls: LlmCall[] = [];

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    if (await handleFaultControl(req, res, faults)) return;
    if (url.pathname === '/_config') return configRoute(req, res);
    if (url.pathname === '/_calls') {
      if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
      return sendJson(res, 200, { calls });
    }
    const protocol = protocols.find((p) => p.owns(url.pathname));
    if (!protocol) {
      return sendJson(res, 404, {
        error: {
          message: `No route for ${req.method} ${url.pathname}. The LLM stand-in serves POST /v1beta/models/{model}:streamGenerateContent?alt=sse, POST /v1beta/models/{model}:generateContent and POST /v1/chat/completions.`,
        },
      });
    }
    for (const [name, value] of Object.entries(protocol.answerHeaders())) res.setHeader(name, value);
    let accepted: AcceptedRequest;
    try {
      const route = protocol.route(req.method ?? 'GET', url);
      protocol.authenticate(req, url);
      accepted = protocol.parse(await readRequestJson(req, protocol), route);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return sendJson(res, err.status, err.body, err.headers);
    }
    const call: LlmCall = {
      provider: protocol.provider,
      model: accepted.model,
      stream: accepted.stream,
      messages: accepted.messages,
      ...(accepted.system !== undefined ? { system: accepted.system } : {}),
      at: Date.now(),
      tokensSent: 0,
      status: 'generating',
    };
    calls.push(call);

    const fault = faults.take(url.pathname, FAULT_KINDS);
    if (fault?.kind === 'rate-limit' || fault?.kind === 'server-error') {
      markFault(call, fault.kind);
      const status = fault.status !== undefined && Number.isInteger(fault.status) && fault.status >= 400 && fault.status <= 599 ? fault.status : 500;
      const error = fault.kind === 'rate-limit' ? protocol.rateLimited(fault.retryAfter ?? 1, accepted.model) : protocol.failure(status);
      return sendJson(res, error.status, error.body, error.headers);
    }
    if (fault?.kind === 'stall') {
      markFault(call, 'stall');
      if (accepted.stream) {
        res.writeHead(200, streamHeaders(accepted));
        res.flushHeaders();
      }
      return; // held open until the client gives up or the stand-in closes
    }
    await answer(res, accepted, call, { ...settings }, fault?.kind === 'drop' ? (fault.afterMs ?? 0) : undefined);
  }

  /**
   * Writes the reply on the clock: piece i at ttftMs + i / tokensPerSecond after acceptance; stops
   * when the connection closes. With `dropAfterMs`, destroys the connection at that time instead
   * of writing any piece due then or later (a `drop` fault), on the same clock as the pieces.
   */
  async function answer(res: ServerResponse, accepted: AcceptedRequest, call: LlmCall, clock: Settings, dropAfterMs?: number): Promise<void> {
    const reply = chooseReply(lastUserText(accepted.messages), clock.replies);
    const tokens = splitTokens(reply);
    const pieces = tokens.length > 0 ? tokens : [''];
    const start = performance.now();
    const due = (i: number) => start + clock.ttftMs + (i * 1000) / clock.tokensPerSecond;
    const dropAt = dropAfterMs === undefined ? Infinity : start + dropAfterMs;
    const closed = new AbortController();
    res.once('close', () => closed.abort());
    /** Waits until `time`; false if the connection closed first, or was dropped at `dropAt`. */
    const reach = async (time: number): Promise<boolean> => {
      if (time < dropAt) return waitUntil(time, closed.signal);
      if (await waitUntil(dropAt, closed.signal)) {
        markFault(call, 'drop');
        res.destroy();
      }
      return false;
    };
    try {
      if (accepted.stream) {
        res.writeHead(200, streamHeaders(accepted));
        res.flushHeaders();
        for (let i = 0; i < pieces.length; i++) {
          if (!(await reach(due(i)))) return;
          res.write(accepted.encoder.piece(pieces[i], i, pieces.length));
          call.tokensSent = Math.min(i + 1, tokens.length);
        }
        res.end();
      } else {
        if (!(await reach(due(pieces.length - 1)))) return;
        sendJson(res, 200, accepted.encoder.whole(reply, tokens.length));
        call.tokensSent = tokens.length;
      }
      call.status = 'completed';
    } finally {
      if (call.status === 'generating') call.status = 'disconnected';
    }
  }

  async function configRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST') {
      try {
        const body = await readJsonBody(req, CONFIG_BODY_LIMIT_BYTES);
        if (!isRecord(body)) throw new TypeError('the body must be a JSON object: {ttftMs?, tokensPerSecond?, replies?}');
        const unknown = Object.keys(body).filter((k) => k !== 'ttftMs' && k !== 'tokensPerSecond' && k !== 'replies');
        if (unknown.length > 0) throw new TypeError(`unknown setting ${unknown.join(', ')}: use ttftMs, tokensPerSecond, replies`);
        configure({
          ttftMs: body.ttftMs as number | undefined,
          tokensPerSecond: body.tokensPerSecond as number | undefined,
          replies: body.replies === undefined ? undefined : repliesFromJson(body.replies),
        });
      } catch (err) {
        return sendJson(res, err instanceof BodyError ? err.status : 400, { error: (err as Error).message });
      }
    } else if (req.method !== 'GET') {
      return void res.writeHead(405, { allow: 'GET, POST' }).end();
    }
    sendJson(res, 200, { ttftMs: settings.ttftMs, tokensPerSecond: settings.tokensPerSecond, replies: repliesToJson(settings.replies) });
  }

  const server = createServer((req, res) => {
    handleRequest(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `LLM stand-in failure: ${err.message}` } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;

  return {
    url: `http://${hostPart}:${port}`,
    faults,
    get calls() {
      return calls;
    },
    configure,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function markFault(call: LlmCall, kind: FaultKind): void {
  call.status = 'fault';
  call.fault = kind;
}

function streamHeaders(accepted: AcceptedRequest): Record<string, string> {
  return { 'content-type': accepted.encoder.streamContentType, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
}

/** The text of the last `user` turn (the question the reply answers), or '' if there is none. */
function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return messages[i].text;
  return '';
}

/**
 * Resolves true at `time` (performance.now() scale), never before it, or false as soon as `signal`
 * aborts. (A timer counts from the event loop's cached clock, so it can fire early on a busy loop:
 * hence the loop.)
 */
async function waitUntil(time: number, signal: AbortSignal): Promise<boolean> {
  for (let delay = time - performance.now(); delay > 0 && !signal.aborted; delay = time - performance.now()) {
    try {
      await sleep(delay, undefined, { signal });
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }
  return !signal.aborted;
}

/**
 * Reads a JSON body of at most LLM_BODY_LIMIT_BYTES. A larger body is read to its end and
 * discarded (so the client, still sending, gets the answer) before the 413. An empty body is `{}`.
 */
async function readRequestJson(req: IncomingMessage, protocol: LlmProtocol): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= LLM_BODY_LIMIT_BYTES) chunks.push(chunk);
  }
  if (size > LLM_BODY_LIMIT_BYTES) throw protocol.tooLarge(LLM_BODY_LIMIT_BYTES);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw protocol.badJson();
  }
}
