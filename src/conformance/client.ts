// HTTP as the widget (and a hostile page) sends it to the endpoint under test. Every answer is kept,
// headers and body, for the closing key scan; session requests wait out a rate limit (the kit's own
// pace must not fail other checks) unless a check is about the rate limit itself.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionResponse } from '../shared/contract.js';

/** One answer the endpoint sent. */
export interface Answer {
  what: string;
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: any;
}

/** The longest a session request waits for a rate limit to pass, in all. */
const RATE_LIMIT_PATIENCE_MS = 90_000;

export class EndpointClient {
  /** Every answer so far (the key scan reads them all). */
  readonly answers: { what: string; status: number; headers: [string, string][]; body: string }[] = [];

  constructor(
    /** The token endpoint: `POST` here makes a session. */
    readonly endpoint: string,
    /** The page origin the endpoint allows. */
    readonly origin: string,
  ) {}

  /** Resolves one of the answer's URLs the way the browser does on a page of `origin`. */
  url(value: string): string {
    return new URL(value, this.origin).href;
  }

  /** `fetch`, read to the end and recorded. */
  async send(what: string, url: string, init: RequestInit = {}): Promise<Answer> {
    const res = await fetch(url, { redirect: 'manual', ...init });
    const text = await res.text();
    return this.record(what, res, text);
  }

  /**
   * A `POST` on a connection of its own, closed after the answer: for oversized bodies, which a
   * server may answer before it has read them and then drop the connection (the next request must
   * not inherit that).
   */
  sendAlone(what: string, url: string, headers: Record<string, string>, body: string): Promise<Answer> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'POST', agent: false, headers: { ...headers, connection: 'close' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          resolve(this.record(what, new Response(null, { status: res.statusCode ?? 0, headers: h }), text));
        });
        res.on('error', reject);
      });
      // The server may stop reading and answer early: that is the answer wanted, not an error.
      req.on('error', (err) => (req.writableEnded ? undefined : reject(err)));
      req.end(body);
    });
  }

  /** Keeps an answer read elsewhere (a stream) for the key scan. */
  record(what: string, res: Response, text: string): Answer {
    this.answers.push({ what, status: res.status, headers: [...res.headers], body: text });
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { what, status: res.status, headers: res.headers, text, json };
  }

  /** `POST` to the token endpoint from `origin` (or `headers.origin`); waits out 429 `rate_limited` unless `patient` is false. */
  postSession(body: string, headers: Record<string, string> = {}, patient = true): Promise<Answer> {
    const send = () => this.send('POST session', this.endpoint, { method: 'POST', headers: { origin: this.origin, 'content-type': 'application/json', ...headers }, body });
    return patient ? waitOutRateLimit(send) : send();
  }

  /** A new session (HTTP 200 required), or throws with what the endpoint said. */
  async createSession(request: object = {}): Promise<SessionResponse> {
    const a = await this.postSession(JSON.stringify(request));
    if (a.status !== 200 || !a.json) throw new Error(`the session request answered HTTP ${a.status}: ${a.text.slice(0, 300)}`);
    return a.json as SessionResponse;
  }

  /** `POST` with the session key as the widget sends it. */
  withKey(what: string, url: string, sessionKey: string | undefined, init: RequestInit = {}): Promise<Answer> {
    return this.send(what, this.url(url), {
      method: 'POST',
      ...init,
      headers: { origin: this.origin, ...(sessionKey ? { authorization: `Bearer ${sessionKey}` } : {}), ...(init.headers as Record<string, string>) },
    });
  }

  /** `POST closeUrl` the way the widget's beacon (`text/plain`) or a script (`application/json`) does. */
  close(session: Pick<SessionResponse, 'closeUrl' | 'sessionId' | 'sessionKey'>, type: 'text/plain' | 'application/json' = 'text/plain'): Promise<Answer> {
    return this.send(`POST close (${type})`, this.url(session.closeUrl), {
      method: 'POST',
      headers: { origin: this.origin, 'content-type': type },
      body: JSON.stringify({ sessionId: session.sessionId, sessionKey: session.sessionKey }),
    });
  }
}

/** `{"error": {"code", "message"}}` with this status and one of these codes, else why not. */
export function errorProblem(a: Answer, status: number | number[], codes: string[]): string | undefined {
  const statuses = Array.isArray(status) ? status : [status];
  if (!statuses.includes(a.status)) return `${a.what} answered HTTP ${a.status} (expected ${statuses.join(' or ')}): ${a.text.slice(0, 200)}`;
  const code = a.json?.error?.code;
  if (!codes.includes(code)) return `${a.what}: error code ${JSON.stringify(code)} (expected ${codes.join(' or ')}); body ${a.text.slice(0, 200)}`;
  if (typeof a.json?.error?.message !== 'string') return `${a.what}: the error has no "message"`;
  return undefined;
}

/** Sends again after the Retry-After of each 429 `rate_limited`, for up to RATE_LIMIT_PATIENCE_MS in all. */
export async function waitOutRateLimit(send: () => Promise<Answer>): Promise<Answer> {
  const until = Date.now() + RATE_LIMIT_PATIENCE_MS;
  for (;;) {
    const a = await send();
    if (a.status !== 429 || a.json?.error?.code !== 'rate_limited' || Date.now() > until) return a;
    const retryAfter = Number(a.headers.get('retry-after'));
    await sleep(Math.min(15_000, Math.max(500, Number.isFinite(retryAfter) ? retryAfter * 1000 : 2000)));
  }
}
