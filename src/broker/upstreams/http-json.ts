// JSON over fetch for the broker's upstream calls, with a timeout; each failure becomes an
// UpstreamError that keeps only what the server log may see (status, the service's error code,
// its message with secrets removed).
import { UpstreamError, parseRetryAfter, type UpstreamService } from '../errors.js';

/** Removes secrets from upstream text before it is kept. */
export type Redact = (text: string) => string;

export interface UpstreamCall {
  service: UpstreamService;
  operation: string;
  /** Default POST. */
  method?: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  /** Sent as JSON (POST only). */
  body?: unknown;
  timeoutMs: number;
  redact: Redact;
}

/** Sends one call; resolves with the parsed JSON answer of a 2xx, else rejects with an UpstreamError. */
export async function callJson(call: UpstreamCall): Promise<unknown> {
  const { service, operation, redact } = call;
  const method = call.method ?? 'POST';
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
        method,
        headers: { ...(method === 'POST' ? { 'content-type': 'application/json' } : {}), accept: 'application/json', ...call.headers },
        ...(method === 'POST' ? { body: JSON.stringify(call.body ?? {}) } : {}),
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
      // Redacted whole, then cut (by redact): a key across the cut would be logged in part.
      redact(message ?? text),
      parseRetryAfter(res.headers.get('retry-after')),
    );
  }
  if (json === undefined) throw new UpstreamError(service, operation, 'bad_response', res.status, undefined, 'answer is not JSON');
  return json;
}

/** The code and message of the usual error envelopes: `{code, message}`, `{error: {code, message}}`, Deepgram's `{err_code, err_msg}`. */
function errorFields(json: unknown): { code?: unknown; message?: string } {
  if (!json || typeof json !== 'object') return {};
  const o = json as Record<string, unknown>;
  const inner = (o.error && typeof o.error === 'object' ? o.error : o) as Record<string, unknown>;
  const code = inner.code ?? inner.err_code ?? inner.status;
  const message = inner.message ?? inner.err_msg ?? (typeof o.error === 'string' ? o.error : undefined);
  return {
    ...(code !== undefined ? { code } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

function causeMessage(e: Error): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? e.message;
}
