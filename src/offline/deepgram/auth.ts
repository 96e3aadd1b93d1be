// Credentials of the Deepgram stand-in: the long-lived API key (`Token KEY`) and the temporary
// JWTs `/v1/auth/grant` mints (`Bearer JWT`), HS256-signed with a secret made per process.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const MIN_TOKEN_TTL_SECONDS = 1;
export const MAX_TOKEN_TTL_SECONDS = 3600;

const ISSUER = 'offline-deepgram';

/** How a request authenticated; for a WebSocket, the subprotocol to answer with (if any). */
export type Credential = { scheme: 'token' | 'bearer'; via: 'header' | 'subprotocol' };

export class TokenIssuer {
  readonly #secret = randomBytes(32);

  constructor(readonly apiKey: string) {}

  /** Mints a temporary token valid for `ttlSeconds` from now. */
  grant(ttlSeconds: number): { access_token: string; expires_in: number } {
    const now = Date.now() / 1000;
    const payload = { iss: ISSUER, jti: randomUUID(), scopes: ['usage:write'], iat: Math.floor(now), exp: Math.ceil(now + ttlSeconds) };
    const head = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const body = base64url(JSON.stringify(payload));
    return { access_token: `${head}.${body}.${this.#sign(`${head}.${body}`)}`, expires_in: ttlSeconds };
  }

  /** True for an unexpired token this issuer minted. */
  verify(token: string): boolean {
    const parts = token.split('.');
    if (parts.length !== 3) return false;
    const expected = Buffer.from(this.#sign(`${parts[0]}.${parts[1]}`));
    const actual = Buffer.from(parts[2]);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return false;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: unknown };
      const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: unknown; iss?: unknown };
      return header.alg === 'HS256' && payload.iss === ISSUER && typeof payload.exp === 'number' && Date.now() / 1000 < payload.exp;
    } catch {
      return false;
    }
  }

  /** True when `key` is the API key (compared in constant time). */
  isApiKey(key: string): boolean {
    const a = Buffer.from(key);
    const b = Buffer.from(this.apiKey);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Checks `Authorization: Token KEY` (the only credential `/v1/auth/grant` takes). */
  checkApiKeyHeader(req: IncomingMessage): boolean {
    const match = /^token\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return !!match && this.isApiKey(match[1]);
  }

  /**
   * Authenticates a `/v1/listen` upgrade: subprotocols `token, KEY` or `bearer, JWT` (what browsers
   * send), else `Authorization: Token KEY | Bearer JWT`. Undefined when neither is valid.
   */
  checkListen(req: IncomingMessage): Credential | undefined {
    const protocols = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    for (const scheme of ['token', 'bearer'] as const) {
      const i = protocols.findIndex((p) => p.toLowerCase() === scheme);
      if (i >= 0 && i + 1 < protocols.length) {
        return this.#accepts(scheme, protocols[i + 1]) ? { scheme, via: 'subprotocol' } : undefined;
      }
    }
    const match = /^(token|bearer)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) return undefined;
    const scheme = match[1].toLowerCase() as 'token' | 'bearer';
    return this.#accepts(scheme, match[2]) ? { scheme, via: 'header' } : undefined;
  }

  #accepts(scheme: 'token' | 'bearer', value: string): boolean {
    return scheme === 'token' ? this.isApiKey(value) : this.verify(value);
  }

  #sign(data: string): string {
    return createHmac('sha256', this.#secret).update(data).digest('base64url');
  }
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
