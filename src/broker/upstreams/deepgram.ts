// Deepgram, as the broker uses it: the account key mints short-lived tokens for the browser's
// live-transcription socket; the key itself never leaves the server.
import { UpstreamError } from '../errors.js';
import { callJson, type Redact } from './http-json.js';

export class DeepgramClient {
  constructor(
    readonly apiBase: string,
    readonly apiKey: string,
    readonly ttlSeconds: number,
    readonly timeoutMs: number,
    readonly redact: Redact,
  ) {}

  /** `POST /v1/auth/grant` → a temporary token for the browser's WebSocket. */
  async grant(): Promise<{ token: string; expiresIn: number }> {
    const json = (await callJson({
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
