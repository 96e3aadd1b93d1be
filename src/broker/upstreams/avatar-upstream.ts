// What the broker needs from an avatar service. The broker records, caps and reaps sessions the
// same way whatever the service; everything service-specific sits behind this interface, so a new
// service is one new implementation (and `avatarUpstream` in the broker's configuration).
import type { AvatarAccessBase } from '../../shared/contract.js';
import type { SessionParams } from '../validate.js';

/** The broker's limits a new session is created with. */
export interface AvatarSessionLimits {
  /** Seconds of inactivity after which the service should close the session (HeyGen `activity_idle_timeout`). */
  idleTimeoutSeconds: number;
  /** The broker's longest session in seconds (it stops the session then, whatever the service's own limit). */
  maxSessionSeconds: number;
}

/** A session the service created, and what the browser needs to drive it. */
export interface CreatedAvatarSession<Access extends AvatarAccessBase = AvatarAccessBase> {
  /** The service's id of the session: what `stop` and `keepAlive` take, and the answer's `sessionId`. */
  sessionId: string;
  /** The service's own duration limit in seconds, when it has one (the broker keeps the lower of it and its own). */
  durationLimitSeconds?: number;
  /** Sent to the browser as the answer's `avatar` block, as is: session-scoped credentials only. */
  access: Access;
}

/**
 * Why the broker stops a session (also the `reason` of its `session_closed` log line).
 * `untracked`: the service lists it open, the broker created it, and no session record holds it
 * (the record was lost, or dropped after stops kept failing).
 */
export type AvatarStopReason = 'client_closed' | 'abandoned' | 'duration_limit' | 'create_failed' | 'client_gone' | 'shutdown' | 'stop_retry' | 'untracked';

/**
 * An avatar service as the broker sees it. Failures of its calls should be `UpstreamError`s: the
 * broker maps those to its error codes and logs their redacted details; any other error answers
 * `internal_error` (its message goes to the log, with `secrets` removed).
 */
export interface AvatarUpstream<Access extends AvatarAccessBase = AvatarAccessBase> {
  /** The answer's `avatar.provider`, e.g. `heygen-streaming`. */
  readonly provider: Access['provider'];
  /** Credentials this upstream holds (API keys): removed from everything the broker logs. */
  readonly secrets: readonly string[];
  /**
   * Creates one session. When it fails after the service already created the session, it rejects
   * with an `OrphanedAvatarSessionError` naming it, so the broker stops it: sessions are billed
   * until stopped. When it cannot tell whether the service created one (the answer timed out or
   * was lost), it rejects with an `AvatarSessionInDoubtError` that can look the session up.
   */
  create(params: SessionParams, limits: AvatarSessionLimits): Promise<CreatedAvatarSession<Access>>;
  /** Stops a session with the account's credentials; `already_closed` when the service says it is closed or unknown. */
  stop(sessionId: string, reason: AvatarStopReason): Promise<'stopped' | 'already_closed'>;
  /** Resets the service's idle timer of a session. */
  keepAlive(sessionId: string): Promise<void>;
  /**
   * Ids of the sessions the service reports open for this account. The reaper compares them with
   * its records, on a timer (`reconcileIntervalMs`), and stops the ones the broker created and no
   * longer tracks (all untracked ones with `avatarAccount: 'dedicated'`).
   */
  listOpen(): Promise<string[]>;
}

/**
 * `create` failed after the service had created session `sessionId` (e.g. its answer lacked the
 * media credentials). `cause` is the failure itself, which the broker answers with.
 */
export class OrphanedAvatarSessionError extends Error {
  constructor(
    readonly sessionId: string,
    cause: unknown,
  ) {
    super(`avatar session ${sessionId} was created, then creation failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'OrphanedAvatarSessionError';
  }
}


/**
 * `create` failed without knowing whether the service created a session: its answer timed out,
 * the connection dropped, or the service failed after taking the request. `lookup` resolves with
 * the ids of the sessions this attempt created (none, or one), using a credential scoped to the
 * attempt (HeyGen: `streaming.list` with the attempt's session token); the broker stops them, and
 * retries `lookup` from the reaper while it fails. `cause` is what the broker answers with.
 */
export class AvatarSessionInDoubtError extends Error {
  constructor(
    cause: unknown,
    readonly lookup: () => Promise<string[]>,
  ) {
    super(`avatar session creation may have created a session: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'AvatarSessionInDoubtError';
  }
}
