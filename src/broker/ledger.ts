// The broker's ledger of the avatar sessions it started: a concurrency slot per session, a record
// per session keyed by the hash of its session key, and the stopping of sessions at the avatar
// service, by the browser's close, at shutdown, or by the reaper (past the deadline, or silent).
// A leaked avatar session costs money: every failed stop is retried.
import { createHash, randomBytes } from 'node:crypto';
import { BrokerHttpError, UpstreamError } from './errors.js';
import type { EventLog } from './log.js';
import type { SessionRecord, SessionStore, SlotCaps } from './store.js';
import type { AvatarStopReason, AvatarUpstream } from './upstreams/avatar-upstream.js';
import type { Redact } from './upstreams/http-json.js';

export interface SessionLedgerOptions {
  store: SessionStore;
  avatar: AvatarUpstream;
  caps: SlotCaps;
  /** ms an upstream call may take: how long a pending slot and a stop lease hold follow from it. */
  upstreamTimeoutMs: number;
  /** Seconds without a sign of life after which the reaper stops a session. */
  abandonAfterSeconds: number;
  clock: () => number;
  log: EventLog;
  redact: Redact;
}

/** A stop that keeps failing is retried this many times before the record is dropped (the service's own limits end the session). */
const MAX_STOP_ATTEMPTS = 10;
/** Sessions examined per reaper pass. */
const REAP_BATCH = 500;
const REAP_CONCURRENCY = 8;

/** A new session key (32 random bytes, base64url) and its store key. */
export function newSessionKey(): { sessionKey: string; ref: string } {
  const sessionKey = randomBytes(32).toString('base64url');
  return { sessionKey, ref: refOf(sessionKey) };
}

/** The store key of a session: SHA-256 of its session key (the key itself is never stored). */
function refOf(sessionKey: string): string {
  return createHash('sha256').update(sessionKey).digest('hex');
}

export class SessionLedger {
  readonly #o: SessionLedgerOptions;
  /** How long a slot is held while its session is being created (upstream calls in flight). */
  readonly #pendingSlotMs: number;
  /** How long one instance may take to stop a session before another may try. */
  readonly #stopLeaseMs: number;
  #reaping: Promise<number> | undefined;

  constructor(options: SessionLedgerOptions) {
    this.#o = options;
    this.#pendingSlotMs = options.upstreamTimeoutMs * 3 + 5000;
    this.#stopLeaseMs = options.upstreamTimeoutMs + 5000;
  }

  /** Takes a concurrency slot for a session about to be created; refuses when a cap is reached. */
  async reserve(ref: string, clientId: string): Promise<void> {
    const { store, caps, clock, log } = this.#o;
    const now = clock();
    const reserved = await store.reserveSlot(ref, clientId, caps, now, now + this.#pendingSlotMs);
    if (reserved === 'total') {
      log('warn', 'over_capacity', { client: clientId, maxSessions: caps.total });
      throw new BrokerHttpError('over_capacity', 'every avatar session is in use; try again in a minute', 30);
    }
    if (reserved === 'client') {
      log('warn', 'client_over_capacity', { client: clientId, maxSessionsPerClient: caps.perClient });
      throw new BrokerHttpError('too_many_sessions', `this client already has ${caps.perClient} open session(s); close one first`, 30);
    }
  }

  /** Gives a slot back: its session was never created. */
  async release(ref: string, clientId: string): Promise<void> {
    await this.#o.store.releaseSlot(ref, clientId).catch((e: Error) => this.#o.log('error', 'slot_release_failed', { message: e.message }));
  }

  /** Records a created session in its reserved slot; its deadline is `durationSeconds` from now. */
  async record(fields: Pick<SessionRecord, 'ref' | 'sessionId' | 'clientId' | 'avatarId'>, durationSeconds: number): Promise<SessionRecord> {
    const now = this.#o.clock();
    const record: SessionRecord = { ...fields, createdAt: now, deadline: now + durationSeconds * 1000, lastSeen: now };
    // The slot outlives the deadline a little, so a session the reaper has not stopped yet still counts.
    await this.#o.store.add(record, record.deadline + this.#stopLeaseMs * 2);
    return record;
  }

  /** The open session a session key names, with a sign of life recorded; else 401. */
  async authorize(sessionKey: string | undefined): Promise<SessionRecord> {
    if (!sessionKey) throw new BrokerHttpError('unauthorized', 'send the session key as Authorization: Bearer <sessionKey>');
    const { store, clock } = this.#o;
    const record = await store.get(refOf(sessionKey));
    const now = clock();
    if (!record || record.closingUntil !== undefined || record.deadline <= now) {
      throw new BrokerHttpError('unauthorized', 'unknown or closed session');
    }
    await store.touch(record.ref, now);
    return record;
  }

  /** The browser closes its session: stops it at the service and forgets it; 404 for an unknown id/key pair. */
  async closeByClient(sessionId: string, sessionKey: string): Promise<void> {
    const { store, clock } = this.#o;
    const ref = refOf(sessionKey);
    const record = await store.get(ref);
    if (!record || record.sessionId !== sessionId) throw new BrokerHttpError('not_found', 'no open session with this id and key');
    const now = clock();
    const claimed = await store.claim(ref, now, now + this.#stopLeaseMs);
    // Not claimed: another request or the reaper is stopping it right now.
    if (claimed) await this.#close(claimed, 'client_closed');
  }

  /**
   * Stops a session whose creation failed half-way. If the stop fails too, the session is
   * recorded as due, so the reaper keeps trying.
   */
  async stopOrphan(sessionId: string, ref: string, clientId: string, reason: AvatarStopReason): Promise<void> {
    const { store, avatar, clock, log } = this.#o;
    const now = clock();
    const record: SessionRecord = { ref, sessionId, clientId, avatarId: '', createdAt: now, deadline: now, lastSeen: now, closingUntil: now + this.#stopLeaseMs, stopAttempts: 1 };
    try {
      const result = await avatar.stop(sessionId, reason);
      await store.releaseSlot(ref, clientId);
      log('info', 'session_closed', { sessionId, reason, result });
    } catch (err) {
      log('error', 'session_stop_failed', { sessionId, reason, attempt: 1, ...this.#failureFields(err) });
      await store.add(record, now + this.#stopLeaseMs * MAX_STOP_ATTEMPTS * 2).catch((e: Error) => log('error', 'session_leak_risk', { sessionId, message: e.message }));
    }
  }

  /** Runs a reaper pass, or joins the one running; resolves with the number of sessions it closed. */
  reap(): Promise<number> {
    this.#reaping ??= this.#reapOnce()
      .catch((err: Error) => {
        this.#o.log('error', 'reaper_failed', { message: this.#o.redact(err.message) });
        return 0;
      })
      .finally(() => {
        this.#reaping = undefined;
      });
    return this.#reaping;
  }

  /** Waits for a running pass, then runs a new one. */
  async reapNow(): Promise<number> {
    await this.#reaping;
    return this.reap();
  }

  /** Stops every recorded session (shutdown of an unshared store). */
  async closeAll(): Promise<void> {
    const { store, clock } = this.#o;
    const now = clock();
    const refs = await store.list(100_000).catch(() => [] as string[]);
    await Promise.all(
      refs.map(async (ref) => {
        const record = await store.claim(ref, now, now + this.#stopLeaseMs).catch(() => undefined);
        if (record) await this.#close(record, 'shutdown');
      }),
    );
  }

  /** Waits for a running reaper pass. */
  async settled(): Promise<void> {
    await this.#reaping;
  }

  async #reapOnce(): Promise<number> {
    const { store, clock, abandonAfterSeconds } = this.#o;
    const now = clock();
    const abandonedBefore = now - abandonAfterSeconds * 1000;
    const refs = await store.due(now, abandonedBefore, REAP_BATCH);
    let closed = 0;
    let next = 0;
    const worker = async () => {
      while (next < refs.length) {
        const ref = refs[next++];
        const record = await store.claim(ref, now, now + this.#stopLeaseMs, { abandonedBefore });
        if (!record) continue;
        const reason = (record.stopAttempts ?? 1) > 1 ? 'stop_retry' : record.deadline <= now ? 'duration_limit' : 'abandoned';
        if (await this.#close(record, reason)) closed++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(REAP_CONCURRENCY, refs.length) }, worker));
    return closed;
  }

  /** Stops a claimed session at the service and removes its record; false when the stop failed (retried later). */
  async #close(record: SessionRecord, reason: AvatarStopReason): Promise<boolean> {
    const { store, avatar, clock, log } = this.#o;
    const attempt = record.stopAttempts ?? 1;
    try {
      const result = await avatar.stop(record.sessionId, reason);
      await store.remove(record.ref, record.clientId);
      log('info', 'session_closed', { sessionId: record.sessionId, client: record.clientId, reason, result, lifetimeMs: clock() - record.createdAt });
      return true;
    } catch (err) {
      const fields = this.#failureFields(err);
      if (attempt >= MAX_STOP_ATTEMPTS) {
        log('error', 'session_stop_gave_up', { sessionId: record.sessionId, reason, attempt, ...fields });
        await store.remove(record.ref, record.clientId).catch(() => undefined);
      } else {
        log('error', 'session_stop_failed', { sessionId: record.sessionId, reason, attempt, ...fields });
      }
      return false;
    }
  }

  #failureFields(err: unknown): Record<string, unknown> {
    return err instanceof UpstreamError ? err.logFields() : { message: this.#o.redact(String((err as Error)?.message ?? err)) };
  }
}
