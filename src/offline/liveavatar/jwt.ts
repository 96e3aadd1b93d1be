// LiveAvatar's session tokens are JWTs: the official client decodes the payload (without checking the
// signature) for `start_session_data.mode`. The stand-in signs them HS256 with a secret of its own and
// checks them on every Bearer call. node:crypto does the work; no JWT library is a dependency of the
// package, and HS256 alone needs no more than this.
import { createHmac, timingSafeEqual } from 'node:crypto';

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function sign(input: string, secret: Buffer): string {
  return createHmac('sha256', secret).update(input).digest('base64url');
}

/** A compact HS256 JWT of `payload` (iat/exp are the caller's to set). */
export function signJwt(payload: Record<string, unknown>, secret: Buffer): string {
  const body = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${body}.${sign(body, secret)}`;
}

/** The payload of a JWT signed with `secret` that has not expired (`exp`, seconds), else undefined. */
export function verifyJwt(token: string, secret: Buffer, nowMs = Date.now()): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
  const expected = Buffer.from(sign(`${parts[0]}.${parts[1]}`, secret));
  const given = Buffer.from(parts[2]);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const exp = (payload as { exp?: unknown }).exp;
  if (typeof exp === 'number' && exp * 1000 <= nowMs) return undefined;
  return payload as Record<string, unknown>;
}
