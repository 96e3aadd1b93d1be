// The broker's calls to HeyGen and Deepgram: JSON over fetch with a timeout, each failure turned
// into an UpstreamError that keeps only what the server log may see (status, the service's error
// code, its message with secrets removed).
import { UpstreamError, parseRetryAfter, type UpstreamService } from './errors.js';

export interface UpstreamCall {
  service: UpstreamService;
  operation: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  /** Removes secrets from upstream text before it is kept. */
  redact: (text: string) => string;
}

/** POSTs JSON; resolves with the parsed JSON answer of a 2xx, else rejects with an UpstreamError. */
export async function postJson(call: UpstreamCall): Promise<unknown> {
  const { service, operation, redact } = call;
  // A timer cleared on completion (AbortSignal.timeout would keep every request's state alive for the full timeout).
  const aborter = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    aborter.abort();
  }, call.timeoutMs);
  let res: Response;
  let text: string;
  try {
    try {
      res = await fetch(call.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...call.headers },
        body: JSON.stringify(call.body),
        signal: aborter.signal,
        redirect: 'error',
      });
    } catch (err) {
      if (timedOut) throw new UpstreamError(service, operation, 'timeout');
      throw new UpstreamError(service, operation, 'network', 0, undefined, redact(causeMessage(err as Error)));
    }
    try {
      text = await res.text();
    } catch (err) {
      throw new UpstreamError(service, operation, timedOut ? 'timeout' : 'network', res.status, undefined, redact(causeMessage(err as Error)));
    }
  } finally {
    clearTimeout(timer);
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const { code, message } = errorFields(json);
    throw new UpstreamError(
      service,
      operation,
      'status',
      res.status,
      code,
      redact(message ?? text.slice(0, 200)),
      parseRetryAfter(res.headers.get('retry-after')),
    );
  }
  if (json === undefined) throw new UpstreamError(service, operation, 'bad_response', res.status, undefined, 'answer is not JSON');
  return json;
}

/** The code and message of the usual error envelopes: `{code, message}`, `{error: {code, message}}`, Deepgram's `{err_code, err_msg}`. */
function errorFields(json: unknown): { code?: string | number; message?: string } {
  if (!json || typeof json !== 'object') return {};
  const o = json as Record<string, unknown>;
  const inner = (o.error && typeof o.error === 'object' ? o.error : o) as Record<string, unknown>;
  const code = inner.code ?? inner.err_code ?? inner.status;
  const message = inner.message ?? inner.err_msg ?? (typeof o.error === 'string' ? o.error : undefined);
  return {
    ...(typeof code === 'string' || typeof code === 'number' ? { code: typeof code === 'string' ? code.slice(0, 40) : code } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

function causeMessage(e: Error): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? e.message;
}

/** HeyGen's `{code: 100, data, message}` envelope: its `data`, or an UpstreamError. */
export function heygenData(json: unknown, operation: string): Record<string, unknown> {
  const o = json as { code?: unknown; data?: unknown } | null;
  if (!o || typeof o !== 'object' || (o.code !== undefined && o.code !== 100)) {
    throw new UpstreamError('heygen', operation, 'bad_response', 200, typeof o?.code === 'number' ? o.code : undefined, 'envelope code is not 100');
  }
  return (o.data && typeof o.data === 'object' ? o.data : {}) as Record<string, unknown>;
}

export interface HeygenSession {
  sessionId: string;
  url: string;
  accessToken: string;
  durationLimit?: number;
}

export class HeygenClient {
  constructor(
    readonly apiBase: string,
    readonly apiKey: string,
    readonly timeoutMs: number,
    readonly redact: (text: string) => string,
  ) {}

  #call(operation: string, headers: Record<string, string>, body: unknown): Promise<unknown> {
    return postJson({ service: 'heygen', operation, url: `${this.apiBase}/v1/${operation}`, headers, body, timeoutMs: this.timeoutMs, redact: this.redact });
  }

  /** `streaming.create_token` with the account key → a session-scoped token. */
  async createToken(): Promise<string> {
    const data = heygenData(await this.#call('streaming.create_token', { 'x-api-key': this.apiKey }, {}), 'streaming.create_token');
    if (typeof data.token !== 'string' || !data.token) throw new UpstreamError('heygen', 'streaming.create_token', 'bad_response', 200, undefined, 'no token');
    return data.token;
  }

  /** `streaming.new` with the session token. */
  async newSession(token: string, body: Record<string, unknown>): Promise<HeygenSession> {
    const data = heygenData(await this.#call('streaming.new', { authorization: `Bearer ${token}` }, body), 'streaming.new');
    const { session_id, url, access_token, session_duration_limit } = data;
    if (typeof session_id !== 'string' || !session_id) throw new UpstreamError('heygen', 'streaming.new', 'bad_response', 200, undefined, 'no session_id');
    if (typeof url !== 'string' || typeof access_token !== 'string') {
      // The session exists upstream: the caller must stop it.
      throw Object.assign(new UpstreamError('heygen', 'streaming.new', 'bad_response', 200, undefined, 'no LiveKit url/access_token'), { sessionId: session_id });
    }
    return {
      sessionId: session_id,
      url,
      accessToken: access_token,
      ...(typeof session_duration_limit === 'number' && session_duration_limit > 0 ? { durationLimit: session_duration_limit } : {}),
    };
  }

  /**
   * `streaming.stop` with the account key. Resolves true when stopped, or when HeyGen says the
   * session is already closed or unknown (codes 10005, 10007); rejects on other failures.
   */
  async stop(sessionId: string): Promise<'stopped' | 'already_closed'> {
    try {
      heygenData(await this.#call('streaming.stop', { 'x-api-key': this.apiKey }, { session_id: sessionId }), 'streaming.stop');
      return 'stopped';
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 400 && (String(err.upstreamCode) === '10005' || String(err.upstreamCode) === '10007')) {
        return 'already_closed';
      }
      throw err;
    }
  }
}

export class DeepgramClient {
  constructor(
    readonly apiBase: string,
    readonly apiKey: string,
    readonly ttlSeconds: number,
    readonly timeoutMs: number,
    readonly redact: (text: string) => string,
  ) {}

  /** `POST /v1/auth/grant` → a temporary token for the browser's WebSocket. */
  async grant(): Promise<{ token: string; expiresIn: number }> {
    const json = (await postJson({
      service: 'deepgram',
      operation: 'auth.grant',
      url: `${this.apiBase}/v1/auth/grant`,
      headers: { authorization: `Token ${this.apiKey}` },
      body: { ttl_seconds: this.ttlSeconds },
      timeoutMs: this.timeoutMs,
      redact: this.redact,
    })) as { access_token?: unknown; expires_in?: unknown };
    if (typeof json.access_token !== 'string' || !json.access_token) {
      throw new UpstreamError('deepgram', 'auth.grant', 'bad_response', 200, undefined, 'no access_token');
    }
    const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : this.ttlSeconds;
    return { token: json.access_token, expiresIn };
  }
}
