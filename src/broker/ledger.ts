// The broker's ledger of the avatar sessions it started: a concurrency slot per session, a record
// per session keyed by the hash of its session key, and the stopping of sessions at the avatar
// service, by the browser's close, at shutdown, or by the reaper (past the deadline, or silent;
// and, through reconcile.ts, open at the service but no longer recorded). A leaked avatar session
// costs money: every failed stop is retried, and a creation whose answer was lost is looked up.
import { createHash, randomBytes } from 'node:crypto';
import { BrokerHttpError, UpstreamError } from './errors.js';
import type { EventLog } from './log.js';
import { Reconciler } from './reconcile.js';
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
  /** The longest session, in seconds: how long the broker remembers creating one. */
  maxSessionSeconds: number;
  /** Whose sessions the reaper may stop when the service lists them open and no record holds them (see reconcile.ts). */
  avatarAccount: 'shared' | 'dedicated';
  /** ms between those comparisons; 0: only after the store lost its data. */
  reconcileIntervalMs: number;
  clock: () => number;
  log: EventLog;
  redact: Redact;
}

/** A stop that keeps failing is retried this many times before the record is dropped (the service's own limits end the session). */
const MAX_STOP_ATTEMPTS = 10;
/** Sessions examined per reaper pass. */
const REAP_BATCH = 500;
const REAP_CONCURRENCY = 8;

/** A creation whose answer was lost: how to find what it made, the slot it held, why it failed. */
interface InDoubt {
  lookup: () => Promise<string[]>;
  ref: string;
  clientId: string;
  reason: AvatarStopReason;
  attempts: number;
}

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
  readonly #reconciler: Reconciler;
  /** Creations whose answer was lost, and whose lookup failed too: retried by the reaper. */
  #inDoubt: InDoubt[] = [];
  #reaping: Promise<number> | undefined;

  constructor(options: SessionLedgerOptions) {
    this.#o = options;
    this.#pendingSlotMs = options.upstreamTimeoutMs * 3 + 5000;
    this.#stopLeaseMs = options.upstreamTimeoutMs + 5000;
    this.#reconciler = new Reconciler({
      store: options.store,
      avatar: options.avatar,
      log: options.log,
      account: options.avatarAccount,
      intervalMs: options.reconcileIntervalMs,
      // A session in creation holds a pending slot: it is recorded (or given up) by then.
      graceMs: this.#pendingSlotMs,
      // Past its deadline the reaper stops it, and every failed stop is retried for a while.
      keepMs: options.maxSessionSeconds * 1000 + this.#stopLeaseMs * MAX_STOP_ATTEMPTS * 2,
      failureFields: (err) => this.#failureFields(err),
    });
  }

  /** The service just created `sessionId` for this broker: noted before anything else can fail. */
  async own(sessionId: string): Promise<void> {
    await this.#reconciler.created(sessionId, this.#o.clock());
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
    this.#reconciler.recorded(record.sessionId);
    return record;
  }

  /** The open session a session key names, with a sign of life recorded; else 401. */
  async authorize(sessionKey: string | undefined): Promise<SessionRecord> {
    if (!sessionKey) throw new BrokerHttpError('unauthorized', 'send the session key as Authorization: Bearer <sessionKey>');
    const { store, clock } = this.#o;
    const now = clock();
    const record = await store.get(refOf(sessionKey), now);
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
    const now = clock();
    const record = await store.get(ref, now);
    if (!record || record.sessionId !== sessionId) throw new BrokerHttpError('not_found', 'no open session with this id and key');
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
    await this.own(sessionId).catch(() => undefined);
    const record: SessionRecord = { ref, sessionId, clientId, avatarId: '', createdAt: now, deadline: now, lastSeen: now, closingUntil: now + this.#stopLeaseMs, stopAttempts: 1 };
    try {
      const result = await avatar.stop(sessionId, reason);
      await this.#reconciler.stopped(sessionId).catch(() => undefined);
      await store.releaseSlot(ref, clientId);
      log('info', 'session_closed', { sessionId, reason, result });
    } catch (err) {
      log('error', 'session_stop_failed', { sessionId, reason, attempt: 1, ...this.#failureFields(err) });
      await store.add(record, now + this.#stopLeaseMs * MAX_STOP_ATTEMPTS * 2).catch((e: Error) => log('error', 'session_leak_risk', { sessionId, message: e.message }));
    }
  }

  /**
   * A creation that may have made a session (its answer was lost): looks it up and stops it. When
   * the lookup fails too, the reaper tries it again. Gives the slot back either way.
   */
  async settleInDoubt(lookup: () => Promise<string[]>, ref: string, clientId: string, reason: AvatarStopReason): Promise<void> {
    if (!(await this.#lookUpAndStop({ lookup, ref, clientId, reason, attempts: 1 }))) await this.release(ref, clientId);
  }

  /** True when the lookup answered (and what it found was stopped, or is retried as an orphan). */
  async #lookUpAndStop(doubt: InDoubt): Promise<boolean> {
    const { log } = this.#o;
    const { reason } = doubt;
    let ids: string[];
    try {
      ids = await doubt.lookup();
    } catch (err) {
      if (doubt.attempts >= MAX_STOP_ATTEMPTS) log('error', 'session_leak_risk', { reason, attempt: doubt.attempts, ...this.#failureFields(err) });
      else {
        log('error', 'session_lookup_failed', { reason, attempt: doubt.attempts, ...this.#failureFields(err) });
        this.#inDoubt.push({ ...doubt, attempts: doubt.attempts + 1 });
      }
      return false;
    }
    if (!ids.length) await this.release(doubt.ref, doubt.clientId);
    // One attempt creates one session at most; each gets a ref of its own should its stop be retried.
    for (const [i, id] of ids.entries()) await this.stopOrphan(id, i ? `${doubt.ref}:${i}` : doubt.ref, doubt.clientId, reason);
    return true;
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
    const { store, clock, abandonAfterSeconds, log } = this.#o;
    const now = clock();
    if (!(await store.intact())) {
      log('error', 'store_wiped', { message: 'the session store lost its records (a Redis restart without persistence?): open sessions this broker created are stopped' });
      this.#reconciler.soon();
    }
    for (const doubt of this.#inDoubt.splice(0)) await this.#lookUpAndStop(doubt);
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
    return closed + (await this.#reconciler.runIfDue(now));
  }

  /** Stops a claimed session at the service and removes its record; false when the stop failed (retried later). */
  async #close(record: SessionRecord, reason: AvatarStopReason): Promise<boolean> {
    const { store, avatar, clock, log } = this.#o;
    const attempt = record.stopAttempts ?? 1;
    try {
      const result = await avatar.stop(record.sessionId, reason);
      await store.remove(record.ref, record.clientId);
      await this.#reconciler.stopped(record.sessionId).catch(() => undefined);
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
    return err instanceof UpstreamError ? err.logFields(this.#o.redact) : { message: this.#o.redact(String((err as Error)?.message ?? err)) };
  }
}
