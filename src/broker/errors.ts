// The broker's error answers: a stable code, an HTTP status and a message meant for the browser.
// Upstream failures are mapped to these; an upstream body never reaches the browser.
import type { BrokerError } from '../shared/contract.js';

/** Every code a broker route may answer with, and its HTTP status. */
export const BROKER_ERRORS = {
  bad_request: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden_origin: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_many_sessions: 429,
  internal_error: 500,
  upstream_error: 502,
  upstream_unauthorized: 502,
  upstream_rate_limited: 503,
  upstream_over_capacity: 503,
  over_capacity: 503,
  upstream_timeout: 504,
} as const;

export type BrokerErrorCode = keyof typeof BROKER_ERRORS;

/** A failure a route answers with `BrokerError` JSON. */
export class BrokerHttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    /** Seconds, sent as `Retry-After` (429/503). */
    readonly retryAfter?: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'BrokerHttpError';
    this.status = BROKER_ERRORS[code];
  }

  body(): BrokerError {
    return { error: { code: this.code, message: this.message } };
  }
}

/**
 * Which upstream service a call went to, as the log names it: `deepgram`, `gemini`, `openai`, or an
 * avatar service's own name (`heygen`, …).
 */
export type UpstreamService = string;

/** How the browser hears of a service: these by their role, any other as the avatar service. */
const SERVICE_NAMES = new Map([
  ['deepgram', 'the speech-to-text service'],
  ['gemini', 'the language model service'],
  ['openai', 'the language model service'],
]);

/**
 * A failed upstream call, with what the server log may keep: status, the service's own error code
 * and its message (already redacted). `toHttp()` says what the browser gets.
 */
export class UpstreamError extends Error {
  /** The service's error code, kept only when it is a number or a short word (see `safeUpstreamCode`). */
  readonly upstreamCode?: string | number;

  constructor(
    readonly service: UpstreamService,
    readonly operation: string,
    /** `over_capacity`: the service has no free session for this account (its concurrency limit). */
    readonly kind: 'status' | 'timeout' | 'network' | 'bad_response' | 'aborted' | 'over_capacity',
    readonly status = 0,
    upstreamCode?: unknown,
    readonly detail?: string,
    readonly retryAfter?: number,
  ) {
    super(`${service} ${operation} failed: ${kind}${status ? ` (HTTP ${status})` : ''}`);
    this.name = 'UpstreamError';
    const code = safeUpstreamCode(upstreamCode);
    if (code !== undefined) this.upstreamCode = code;
  }

  toHttp(): BrokerHttpError {
    const who = SERVICE_NAMES.get(this.service) ?? 'the avatar service';
    if (this.kind === 'timeout') return new BrokerHttpError('upstream_timeout', `${who} did not answer in time`, 5);
    if (this.status === 429) {
      const after = clampRetryAfter(this.retryAfter ?? 5);
      return new BrokerHttpError('upstream_rate_limited', `${who} is rate limiting requests; retry in ${after} s`, after);
    }
    if (this.kind === 'over_capacity') {
      return new BrokerHttpError('upstream_over_capacity', `${who} has no free session for this account; retry later`, 30);
    }
    if (this.status === 401 || this.status === 403) {
      return new BrokerHttpError('upstream_unauthorized', `${who} refused the broker's credentials (the operator must check the API key)`);
    }
    // Only numbers from the upstream reach the browser: its status and a numeric code (no text).
    const numeric = typeof this.upstreamCode === 'number' ? `, code ${this.upstreamCode}` : '';
    const what = this.status ? `HTTP ${this.status}${numeric}` : this.kind.replace('_', ' ');
    return new BrokerHttpError('upstream_error', `${who} failed (${what})`, this.status >= 500 ? 2 : undefined);
  }

  /** Fields for a log line, upstream text passed through `redact` (an upstream of your own may not have). */
  logFields(redact: (text: string) => string): Record<string, unknown> {
    const code = typeof this.upstreamCode === 'string' ? redact(this.upstreamCode) : this.upstreamCode;
    return {
      service: this.service,
      operation: this.operation,
      kind: this.kind,
      ...(this.status ? { status: this.status } : {}),
      ...(code !== undefined ? { upstreamCode: code } : {}),
      ...(this.detail ? { detail: redact(this.detail) } : {}),
    };
  }
}

/**
 * An upstream's error code as the broker keeps it: an integer, or a short word of letters,
 * digits, `_ . : -` (`invalid_api_key`, `RESOURCE_EXHAUSTED`); anything else (a long or odd string,
 * which a hostile or broken upstream could fill with a key) is dropped.
 */
export function safeUpstreamCode(code: unknown): string | number | undefined {
  if (typeof code === 'number') return Number.isSafeInteger(code) ? code : undefined;
  return typeof code === 'string' && /^[A-Za-z0-9_.:-]{1,40}$/.test(code) ? code : undefined;
}

/** The browser went away while the broker was still working for it. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client disconnected');
    this.name = 'ClientGoneError';
  }
}

/** Retry-After seconds within 1–300. */
export function clampRetryAfter(seconds: number): number {
  if (!Number.isFinite(seconds)) return 5;
  return Math.min(300, Math.max(1, Math.ceil(seconds)));
}

/** Reads an HTTP `Retry-After` (seconds or a date) as seconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const n = Number(value.trim());
  if (Number.isFinite(n)) return Math.max(0, n);
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, (t - now) / 1000);
}
