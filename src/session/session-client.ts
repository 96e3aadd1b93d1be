// The widget's side of the session endpoint contract: ask the token endpoint (or the page's
// `tokenProvider`) for one session's credentials, and check the answer. DOM-free.
import type { LegacySessionResponse, SessionRequest, SessionResponse, SttTokenResponse } from '../shared/contract.js';
import { SessionEndpointError } from '../shared/errors.js';
import { VERSION } from '../version.js';

export { SessionEndpointError };

/**
 * Supplies one session's credentials instead of POSTing to `token-endpoint`: resolve with the
 * session endpoint's answer (the 0.1 flat shape is still accepted, with a deprecation notice).
 */
export type TokenProvider = (request: SessionRequest, signal: AbortSignal) => Promise<SessionResponse | LegacySessionResponse>;

/** A 429 or 503 whose Retry-After is at most this many seconds is asked again after it (twice at most). */
const RETRY_AFTER_MAX_SECONDS = 3;
const RETRIES = 2;

/**
 * POSTs the session request to `endpoint` and returns the validated answer. A busy endpoint that
 * says to come back within 3 s (429 or 503 with Retry-After) is asked again then: the visitor's
 * Start goes through a moment later instead of failing.
 */
export async function requestSession(
  endpoint: string,
  request: SessionRequest,
  signal: AbortSignal,
  fetchImpl: typeof fetch = fetch,
): Promise<SessionResponse> {
  for (let attempt = 0; ; attempt++) {
    const res = await postSession(endpoint, request, signal, fetchImpl);
    const wait = Number(res.headers.get('retry-after') ?? NaN);
    if ((res.status !== 429 && res.status !== 503) || attempt >= RETRIES || !(wait >= 0 && wait <= RETRY_AFTER_MAX_SECONDS)) {
      return readSessionAnswer(res);
    }
    await res.body?.cancel().catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, Math.max(wait * 1000, 100));
      function done() {
        signal.removeEventListener('abort', done);
        clearTimeout(timer);
        if (signal.aborted) reject(signal.reason);
        else resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

async function postSession(endpoint: string, request: SessionRequest, signal: AbortSignal, fetchImpl: typeof fetch): Promise<Response> {
  try {
    return await fetchImpl(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request),
      credentials: 'same-origin',
      signal,
    });
  } catch (cause) {
    if (signal.aborted) throw cause;
    throw new SessionEndpointError(`the token endpoint ${endpoint} could not be reached`, 0, true, { cause });
  }
}

async function readSessionAnswer(res: Response): Promise<SessionResponse> {
  let body: unknown;
  const text = await res.text();
  try {
    body = JSON.parse(text);
  } catch {
    throw new SessionEndpointError(
      `the token endpoint answered HTTP ${res.status} with a body that is not JSON`,
      res.status,
      res.status >= 500 || res.status === 429,
    );
  }
  if (!res.ok) {
    const detail = (body as { error?: { message?: unknown } })?.error?.message;
    throw new SessionEndpointError(
      `the token endpoint answered HTTP ${res.status}${typeof detail === 'string' ? `: ${detail}` : ''}`,
      res.status,
      res.status >= 500 || res.status === 429,
    );
  }
  return validateSessionResponse(body);
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

let warnedLegacy = false;

/**
 * Checks the shape of a session answer; throws a SessionEndpointError naming the first bad field.
 * The avatar block's own fields are the provider's to check (see avatar/provider.ts). The 0.1 flat
 * shape (`provider`, `heygen`, `livekit` at the top) is turned into the current one, with one
 * console notice per page.
 */
export function validateSessionResponse(body: unknown): SessionResponse {
  const bad = (field: string) => new SessionEndpointError(`the token endpoint's answer lacks a valid "${field}"`, 200, false);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('body');
  let b = body as Partial<SessionResponse> & Partial<LegacySessionResponse>;
  const legacy = b.avatar === undefined && b.provider === 'heygen-streaming';
  if (legacy) {
    const { provider: _provider, heygen, livekit, ...rest } = b;
    b = { ...rest, avatar: { provider: 'heygen-streaming', apiBase: heygen?.apiBase as string, token: heygen?.token as string, livekit: livekit as { url: string; token: string } } };
  }
  if (!b.avatar || typeof b.avatar !== 'object' || !isString(b.avatar.provider)) throw bad('avatar.provider');
  if (!isString(b.sessionId)) throw bad('sessionId');
  if (!isString(b.sessionKey)) throw bad('sessionKey');
  if (!isString(b.stt?.url)) throw bad('stt.url');
  if (!isString(b.stt?.token)) throw bad('stt.token');
  if (!isString(b.stt?.refreshUrl)) throw bad('stt.refreshUrl');
  if (!isString(b.closeUrl)) throw bad('closeUrl');
  if (b.llm !== undefined && !isString(b.llm?.url)) throw bad('llm.url');
  if (typeof b.limits?.sessionDurationSeconds !== 'number') throw bad('limits.sessionDurationSeconds');
  if (legacy && !warnedLegacy) {
    warnedLegacy = true;
    console.warn(
      `heygen-avatar ${VERSION}: the token endpoint answered in the deprecated 0.1 shape (provider, heygen, livekit at the top level); ` +
        'send them as "avatar": {"provider", "apiBase", "token", "livekit"} instead. The old shape will stop working in a later release.',
    );
  }
  return b as SessionResponse;
}

/** Asks the broker for a fresh STT token (reconnects). */
export async function refreshSttToken(session: SessionResponse, signal: AbortSignal, fetchImpl: typeof fetch = fetch): Promise<SttTokenResponse> {
  const res = await fetchImpl(session.stt.refreshUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.sessionKey}` },
    signal,
  });
  if (!res.ok) throw new SessionEndpointError(`the STT token refresh answered HTTP ${res.status}`, res.status, res.status >= 500 || res.status === 429);
  const body = (await res.json()) as SttTokenResponse;
  if (!isString(body.token)) throw new SessionEndpointError('the STT token refresh answer lacks a token', res.status, false);
  return body;
}

/**
 * Reports the session closed. With `leaving` (the page is going away) it goes two ways at once, a
 * beacon and a `keepalive` fetch, since a browser may drop either while it tears the page down;
 * back ends treat a second report of the same session as done.
 */
export function reportSessionClosed(session: SessionResponse, leaving: boolean, fetchImpl: typeof fetch = fetch): void {
  const body = JSON.stringify({ sessionId: session.sessionId, sessionKey: session.sessionKey });
  if (leaving && typeof navigator !== 'undefined' && typeof navigator.sendBeacon === 'function') {
    // text/plain keeps the beacon a simple request (no CORS preflight).
    navigator.sendBeacon(session.closeUrl, new Blob([body], { type: 'text/plain' }));
  }
  fetchImpl(session.closeUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body, keepalive: true }).catch(() => undefined);
}

/** POSTs the broker's heartbeat every `intervalSeconds` until `signal` aborts (no-op without one). */
export function startHeartbeat(session: SessionResponse, signal: AbortSignal, fetchImpl: typeof fetch = fetch): void {
  const hb = session.heartbeat;
  if (!hb || !isString(hb.url) || !(hb.intervalSeconds > 0)) return;
  const beat = () =>
    void fetchImpl(hb.url, { method: 'POST', headers: { authorization: `Bearer ${session.sessionKey}` }, signal }).catch(() => undefined);
  const timer = setInterval(beat, Math.max(1, hb.intervalSeconds) * 1000);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
