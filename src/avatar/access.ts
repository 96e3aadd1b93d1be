// A provider's check of its `avatar` block in the session answer.
import type { AvatarAccessBase } from '../shared/contract.js';
import { SessionEndpointError } from '../shared/errors.js';

/**
 * Returns `access` as `T` once every dotted path in `fields` is a non-empty string; else throws a
 * SessionEndpointError naming the first that is not (`avatar.livekit.url`).
 */
export function checkAccess<T extends AvatarAccessBase>(access: AvatarAccessBase, fields: readonly string[]): T {
  for (const field of fields) {
    const value = field.split('.').reduce<unknown>((o, key) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined), access);
    if (typeof value !== 'string' || !value) throw new SessionEndpointError(`the token endpoint's answer lacks a valid "avatar.${field}"`, 200, false);
  }
  return access as T;
}
