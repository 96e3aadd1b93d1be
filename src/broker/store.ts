// Where the broker keeps session records, concurrency slots and rate-limit buckets. In memory by
// default (one process); `RedisStore` shares them between broker instances. Every operation that
// checks and changes state is atomic, so caps and limits hold under concurrent requests.

/** One avatar session the broker started. Keyed by `ref`, the SHA-256 of its session key. */
export interface SessionRecord {
  /** hex SHA-256 of the session key; the session key itself is never stored. */
  ref: string;
  /** The avatar service's session id (HeyGen `session_id`). */
  sessionId: string;
  /** Who asked for it (client IP or what `getClientIp` returned). */
  clientId: string;
  avatarId: string;
  /** ms since epoch. */
  createdAt: number;
  /** ms since epoch: the reaper stops the session at this time. */
  deadline: number;
  /** ms since epoch: the last sign of life (creation, heartbeat, STT refresh, LLM call). */
  lastSeen: number;
  /** While set and in the future, an instance is stopping this session (others leave it alone). */
  closingUntil?: number;
  /** How many times stopping it was attempted. */
  stopAttempts?: number;
}

export interface SlotCaps {
  /** Sessions open (or being opened) at once, across every instance sharing the store. */
  total: number;
  /** … of which from one client. */
  perClient: number;
}

/**
 * What the store knows of an avatar session the service lists as open: `recorded` (a session
 * record holds it), `owned` (a broker sharing this store created it, and no record holds it), or
 * `unknown` (not created here, as far as the store knows).
 */
export type SessionOwnership = 'recorded' | 'owned' | 'unknown';

/** Answer of `takeToken`: allowed, or how long until a token is available. */
export type TokenResult = { ok: true } | { ok: false; retryAfterMs: number };

export interface TokenBucket {
  /** Most tokens held (the burst). */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

export interface SessionStore {
  /** `memory` or `redis`. */
  readonly kind: string;
  /** True when other broker instances may share this store (their sessions are not ours to stop at shutdown). */
  readonly shared: boolean;
  /**
   * Takes a concurrency slot for a session being created, if the caps allow. The slot holds until
   * `until` (ms) unless `holdSlot` or `release` changes that. Expired slots are dropped first.
   */
  reserveSlot(ref: string, clientId: string, caps: SlotCaps, now: number, until: number): Promise<'ok' | 'total' | 'client'>;
  /** Gives a slot back (creation failed). */
  releaseSlot(ref: string, clientId: string): Promise<void>;
  /** Stores a created session; its slot now holds until `slotUntil`. */
  add(record: SessionRecord, slotUntil: number): Promise<void>;
  /** The record of a session, its times on the clock of the caller whose time is `now`. */
  get(ref: string, now: number): Promise<SessionRecord | undefined>;
  /** Records a sign of life; false when there is no such session. */
  touch(ref: string, now: number): Promise<boolean>;
  /**
   * Marks the session as being stopped by the caller until `leaseUntil`, and returns it; undefined
   * when it does not exist, another caller holds the lease, or (with `ifDue`) it is not due.
   */
  claim(ref: string, now: number, leaseUntil: number, ifDue?: { abandonedBefore: number }): Promise<SessionRecord | undefined>;
  /** Removes a session and its slot (after it was stopped). */
  remove(ref: string, clientId: string): Promise<void>;
  /** Refs of sessions past their deadline, or silent since before `abandonedBefore`. */
  due(now: number, abandonedBefore: number, limit: number): Promise<string[]>;
  /** Every session ref (at most `limit`). */
  list(limit: number): Promise<string[]>;
  /** Takes one token from a bucket. */
  takeToken(key: string, bucket: TokenBucket, now: number): Promise<TokenResult>;
  /** Counts one use of `key` if fewer than `max` were counted; false when `max` were. The count is forgotten `ttlMs` after its last use. */
  countUse(key: string, max: number, now: number, ttlMs: number): Promise<boolean>;
  /**
   * Notes that this broker created avatar session `sessionId` at the service (before its record
   * exists, and after it is gone), for `keepMs`: the reaper stops such a session when the service
   * still lists it open and no record holds it.
   */
  own(sessionId: string, now: number, keepMs: number): Promise<void>;
  /** The session was stopped: forget it. */
  disown(sessionId: string): Promise<void>;
  /** What the store knows of each of these service session ids; `owned` only when noted since `ownedSince`. */
  ownership(sessionIds: string[], now: number, ownedSince: number): Promise<SessionOwnership[]>;
  /**
   * False when the store lost its data since this instance last looked (a Redis server restarted
   * without persistence, or flushed): the sessions it held are then unknown to every broker.
   */
  intact(): Promise<boolean>;
  /** Sessions recorded and slots held (for health checks and tests). */
  counts(now: number): Promise<{ sessions: number; slots: number }>;
  close(): Promise<void>;
}

/** The in-process store: correct for one broker process. */
export class MemoryStore implements SessionStore {
  readonly kind = 'memory';
  readonly shared = false;
  readonly #records = new Map<string, SessionRecord>();
  /** ref → slot expiry (ms) and owner. */
  readonly #slots = new Map<string, { clientId: string; until: number }>();
  readonly #buckets = new Map<string, { tokens: number; at: number; idleUntil: number }>();
  readonly #uses = new Map<string, { count: number; until: number }>();
  /** Service session id → when it was noted as created here. */
  readonly #owned = new Map<string, number>();
  #lastSweep = 0;

  async reserveSlot(ref: string, clientId: string, caps: SlotCaps, now: number, until: number): Promise<'ok' | 'total' | 'client'> {
    let total = 0;
    let mine = 0;
    for (const [key, slot] of this.#slots) {
      if (slot.until <= now) {
        this.#slots.delete(key);
        continue;
      }
      total++;
      if (slot.clientId === clientId) mine++;
    }
    if (total >= caps.total) return 'total';
    if (mine >= caps.perClient) return 'client';
    this.#slots.set(ref, { clientId, until });
    return 'ok';
  }

  async releaseSlot(ref: string): Promise<void> {
    this.#slots.delete(ref);
  }

  async add(record: SessionRecord, slotUntil: number): Promise<void> {
    this.#records.set(record.ref, { ...record });
    this.#slots.set(record.ref, { clientId: record.clientId, until: slotUntil });
  }

  async get(ref: string, _now: number): Promise<SessionRecord | undefined> {
    const r = this.#records.get(ref);
    return r && { ...r };
  }

  async touch(ref: string, now: number): Promise<boolean> {
    const r = this.#records.get(ref);
    if (!r) return false;
    r.lastSeen = Math.max(r.lastSeen, now);
    return true;
  }

  async claim(ref: string, now: number, leaseUntil: number, ifDue?: { abandonedBefore: number }): Promise<SessionRecord | undefined> {
    const r = this.#records.get(ref);
    if (!r) return undefined;
    if (r.closingUntil !== undefined && r.closingUntil > now) return undefined;
    if (ifDue && !(r.deadline <= now || r.lastSeen < ifDue.abandonedBefore || r.closingUntil !== undefined)) return undefined;
    r.closingUntil = leaseUntil;
    r.stopAttempts = (r.stopAttempts ?? 0) + 1;
    return { ...r };
  }

  async remove(ref: string): Promise<void> {
    this.#records.delete(ref);
    this.#slots.delete(ref);
  }

  async due(now: number, abandonedBefore: number, limit: number): Promise<string[]> {
    const out: string[] = [];
    for (const r of this.#records.values()) {
      if (out.length >= limit) break;
      const claimable = r.closingUntil === undefined || r.closingUntil <= now;
      if (claimable && (r.deadline <= now || r.lastSeen < abandonedBefore || r.closingUntil !== undefined)) out.push(r.ref);
    }
    return out;
  }

  async list(limit: number): Promise<string[]> {
    return [...this.#records.keys()].slice(0, limit);
  }

  async takeToken(key: string, bucket: TokenBucket, now: number): Promise<TokenResult> {
    this.#sweepBuckets(now);
    const b = this.#buckets.get(key) ?? { tokens: bucket.capacity, at: now, idleUntil: 0 };
    b.tokens = Math.min(bucket.capacity, b.tokens + ((now - b.at) / 1000) * bucket.refillPerSecond);
    b.at = now;
    // When the bucket would be full again, it carries no information: it may be forgotten.
    b.idleUntil = now + ((bucket.capacity - b.tokens + 1) / bucket.refillPerSecond) * 1000;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - b.tokens) / bucket.refillPerSecond) * 1000) };
  }

  async countUse(key: string, max: number, now: number, ttlMs: number): Promise<boolean> {
    this.#sweepBuckets(now);
    const use = this.#uses.get(key);
    const count = use && use.until > now ? use.count : 0;
    if (count >= max) return false;
    this.#uses.set(key, { count: count + 1, until: now + ttlMs });
    return true;
  }

  async own(sessionId: string, now: number, keepMs: number): Promise<void> {
    for (const [id, at] of this.#owned) if (at < now - keepMs) this.#owned.delete(id);
    this.#owned.set(sessionId, now);
  }

  async disown(sessionId: string): Promise<void> {
    this.#owned.delete(sessionId);
  }

  async ownership(sessionIds: string[], _now: number, ownedSince: number): Promise<SessionOwnership[]> {
    const recorded = new Set([...this.#records.values()].map((r) => r.sessionId));
    return sessionIds.map((id) => (recorded.has(id) ? 'recorded' : (this.#owned.get(id) ?? -Infinity) >= ownedSince ? 'owned' : 'unknown'));
  }

  async intact(): Promise<boolean> {
    // Memory cannot lose part of itself: a restart loses the process with it.
    return true;
  }

  #sweepBuckets(now: number): void {
    if (now - this.#lastSweep < 10_000) return;
    this.#lastSweep = now;
    for (const [key, b] of this.#buckets) if (b.idleUntil <= now) this.#buckets.delete(key);
    for (const [key, u] of this.#uses) if (u.until <= now) this.#uses.delete(key);
  }

  async counts(now: number): Promise<{ sessions: number; slots: number }> {
    let slots = 0;
    for (const s of this.#slots.values()) if (s.until > now) slots++;
    return { sessions: this.#records.size, slots };
  }

  async close(): Promise<void> {
    // nothing to release
  }
}
