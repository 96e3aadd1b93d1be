// One REST call to an avatar service from the browser, with the session's own token. HeyGen's
// streaming API and LiveAvatar share the envelope `{code, data, message}` and differ only in the
// code that means success.
import { AvatarServiceError } from '../shared/errors.js';

export interface ServiceCall {
  /** The full URL. */
  url: string;
  /** The session-scoped token: `Authorization: Bearer <token>`. */
  token: string;
  /** JSON body; none is sent when unset. */
  body?: Record<string, unknown>;
  /** The envelope's `code` on success (HeyGen streaming 100, LiveAvatar 1000). */
  okCode: number;
  /** What the call is, for messages (`streaming.task`, `sessions/start`). */
  name: string;
  signal?: AbortSignal;
}

/** POSTs and returns the envelope's `data`; a failure is an AvatarServiceError, transient for 429 and 5xx. */
export async function callAvatarService<T>(call: ServiceCall): Promise<T> {
  let res: Response;
  try {
    res = await fetch(call.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${call.token}` },
      ...(call.body ? { body: JSON.stringify(call.body) } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
    });
  } catch (cause) {
    if (call.signal?.aborted) throw cause;
    throw new AvatarServiceError(`the avatar service could not be reached (${call.name})`, 0, true, { cause });
  }
  let json: { code?: number; data?: T; message?: string };
  try {
    json = await res.json();
  } catch {
    throw new AvatarServiceError(`the avatar service answered HTTP ${res.status} to ${call.name} with a body that is not JSON`, res.status, res.status >= 500);
  }
  if (!res.ok || json?.code !== call.okCode) {
    const code = json?.code ?? res.status;
    const transient = res.status === 429 || res.status >= 500;
    throw new AvatarServiceError(`${call.name} failed: ${json?.message ?? `HTTP ${res.status}`} (code ${code})`, code, transient);
  }
  return json.data as T;
}
