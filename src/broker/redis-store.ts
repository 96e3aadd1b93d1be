// Session records, concurrency slots and rate-limit buckets in Redis, shared by every broker
// instance that points at the same server and prefix. Each check-and-change is one Lua script
// (ioredis sends EVALSHA, falling back to EVAL), so caps and limits hold across instances.
//
// Times: the callers pass their own clock's time, but every time stored and compared is the
// Redis server's (`TIME` inside the scripts): the caller's times are moved by the difference
// between the two clocks, and records read back are moved back. So instances whose clocks
// disagree still agree on which slots have run out and which sessions fell silent.
import { Redis } from 'ioredis';
import type { SessionOwnership, SessionRecord, SessionStore, SlotCaps, TokenBucket, TokenResult } from './store.js';

export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  url: string;
  /** Key prefix; default `heygen-avatar:`. Instances that share sessions use the same one. */
  prefix?: string;
  /** ms per command; default 5000. */
  commandTimeoutMs?: number;
  /**
   * Whose clock dates slots, records and buckets: `server` (default), the Redis server's, so
   * instances with skewed clocks agree; `caller`, the times the callers pass as they are (for
   * tests that run the store on a made-up clock).
   */
  clock?: 'server' | 'caller';
}

// Every script that deals in time takes ARGV[1] = the caller's now and ARGV[2] = '1' to use the
// server's clock; `d` is what to add to a caller's time to make it the server's.
const CLOCK = `
local d = 0
if ARGV[2] == '1' then
  local t = redis.call('TIME')
  d = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[1])
end
local now = tonumber(ARGV[1]) + d
`;

// KEYS: slots, clientSlots. ARGV: now, clock, ref, until, total, perClient.
const RESERVE = `${CLOCK}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then return 'total' end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then return 'client' end
redis.call('ZADD', KEYS[1], tonumber(ARGV[4]) + d, ARGV[3])
redis.call('ZADD', KEYS[2], tonumber(ARGV[4]) + d, ARGV[3])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[2], math.max(1, math.ceil(tonumber(last[2]) - now)) + 60000)
return 'ok'`;

// KEYS: rec, slots, clientSlots, deadlines, seen, recorded. ARGV: now, clock, json, slotUntil, recordTtlMs.
const ADD = `${CLOCK}
local r = cjson.decode(ARGV[3])
r.createdAt = r.createdAt + d
r.deadline = r.deadline + d
r.lastSeen = r.lastSeen + d
if r.closingUntil then r.closingUntil = r.closingUntil + d end
local slotUntil = tonumber(ARGV[4]) + d
redis.call('SET', KEYS[1], cjson.encode(r), 'PX', ARGV[5])
redis.call('ZADD', KEYS[2], slotUntil, r.ref)
redis.call('ZADD', KEYS[3], slotUntil, r.ref)
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[3], math.max(1, math.ceil(tonumber(last[2]) - now)) + 60000)
redis.call('ZADD', KEYS[4], r.deadline, r.ref)
redis.call('ZADD', KEYS[5], r.lastSeen, r.ref)
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
redis.call('ZADD', KEYS[6], now + tonumber(ARGV[5]), r.sessionId)
return 1`;

// KEYS: rec, seen. ARGV: now, clock, ref. → {record json, last seen, d}
const GET = `${CLOCK}
local j = redis.call('GET', KEYS[1])
if not j then return false end
return {j, redis.call('ZSCORE', KEYS[2], ARGV[3]) or false, tostring(d)}`;

// KEYS: rec, seen. ARGV: now, clock, ref.
const TOUCH = `${CLOCK}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 'GT', now, ARGV[3])
return 1`;

// KEYS: rec, deadlines, seen. ARGV: now, clock, leaseUntil, ifDue (0|1), abandonedBefore, ref. → {record json, d}
const CLAIM = `${CLOCK}
local ref = ARGV[6]
local j = redis.call('GET', KEYS[1])
if not j then
  redis.call('ZREM', KEYS[2], ref)
  redis.call('ZREM', KEYS[3], ref)
  return false
end
local r = cjson.decode(j)
if r.closingUntil and r.closingUntil > now then return false end
local seen = tonumber(redis.call('ZSCORE', KEYS[3], ref) or r.lastSeen)
r.lastSeen = seen
if ARGV[4] == '1' and not (r.deadline <= now or seen < tonumber(ARGV[5]) + d or r.closingUntil) then return false end
r.closingUntil = tonumber(ARGV[3]) + d
r.stopAttempts = (r.stopAttempts or 0) + 1
local out = cjson.encode(r)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
redis.call('ZADD', KEYS[2], r.closingUntil, ref)
return {out, tostring(d)}`;

// KEYS: rec, slots, clientSlots, deadlines, seen, recorded. ARGV: ref.
const REMOVE = `
local j = redis.call('GET', KEYS[1])
if j then redis.call('ZREM', KEYS[6], cjson.decode(j).sessionId) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
return 1`;

// KEYS: slots, clientSlots. ARGV: ref.
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`;

// KEYS: deadlines, seen. ARGV: now, clock, abandonedBefore, limit. → refs (may repeat)
const DUE = `${CLOCK}
local late = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[4])
local silent = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[3]) + d), 'LIMIT', 0, ARGV[4])
for _, ref in ipairs(silent) do table.insert(late, ref) end
return late`;

// KEYS: deadlines, slots. ARGV: now, clock. → {sessions, slots held}
const COUNTS = `${CLOCK}
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')}`;

// KEYS: bucket. ARGV: now, clock, capacity, refillPerMs.
// Returns 0 when a token was taken, else the ms until one is available.
const TAKE_TOKEN = `${CLOCK}
local cap = tonumber(ARGV[3])
local rate = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local t = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
if now > at then t = math.min(cap, t + (now - at) * rate) end
local wait = 0
if t >= 1 then t = t - 1 else wait = math.ceil((1 - t) / rate) end
redis.call('HSET', KEYS[1], 't', tostring(t), 'at', tostring(math.max(now, at)))
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - t) / rate) + 1000)
return wait`;

// KEYS: counter. ARGV: max, ttlMs. → 1 when counted, 0 when the counter is at max
const COUNT_USE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], n + 1, 'PX', ARGV[2])
return 1`;

// KEYS: owned. ARGV: now, clock, sessionId, keepMs.
const OWN = `${CLOCK}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[4]))
redis.call('ZADD', KEYS[1], now, ARGV[3])
return 1`;

// KEYS: recorded, owned. ARGV: now, clock, ownedSince, sessionId… → 'recorded' | 'owned' | 'unknown' each
const OWNERSHIP = `${CLOCK}
local since = tonumber(ARGV[3]) + d
local out = {}
for i = 4, #ARGV do
  local held = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]) or '-1')
  local owned = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[i]) or '-1')
  if held > now then out[#out + 1] = 'recorded'
  elseif owned >= since then out[#out + 1] = 'owned'
  else out[#out + 1] = 'unknown' end
end
return out`;

const SCRIPTS = {
  reserve: RESERVE,
  add: ADD,
  get: GET,
  touch: TOUCH,
  claim: CLAIM,
  remove: REMOVE,
  release: RELEASE,
  due: DUE,
  counts: COUNTS,
  takeToken: TAKE_TOKEN,
  countUse: COUNT_USE,
  own: OWN,
  ownership: OWNERSHIP,
};
type ScriptName = keyof typeof SCRIPTS;
type ScriptReply = string | number | null | ScriptReply[];

/** The Redis-backed store, on ioredis (reconnection, the scripts' EVALSHA with EVAL fallback, timeouts). */
export class RedisStore implements SessionStore {
  readonly kind = 'redis';
  readonly shared = true;
  readonly #client: Redis;
  readonly #p: string;
  readonly #serverClock: '0' | '1';
  #lastError = '';
  /** Whether this instance has seen (or set) the marker key: its absence after that means the data was lost. */
  #markerSeen = false;

  constructor(options: RedisStoreOptions) {
    checkRedisUrl(options.url);
    this.#client = new Redis(options.url, {
      connectionName: 'heygen-avatar-broker',
      commandTimeout: options.commandTimeoutMs ?? 5000,
      connectTimeout: 5000,
      // While Redis is unreachable a command waits for the next connection attempt only (at most a
      // second apart), so the broker answers 500 at once instead of holding requests in a queue.
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      // A script cut off by a dropped connection may have run: it fails rather than run twice.
      autoResendUnfulfilledCommands: false,
      scripts: Object.fromEntries(Object.entries(SCRIPTS).map(([name, lua]) => [name, { lua }])),
    });
    // Failed commands carry the reason; the last connection error says why there is no connection.
    this.#client.on('error', (err: Error) => {
      this.#lastError = err.message;
    });
    this.#p = options.prefix ?? 'heygen-avatar:';
    this.#serverClock = options.clock === 'caller' ? '0' : '1';
  }

  /** Checks the connection (PING). */
  async ping(): Promise<void> {
    const r = await this.#run(this.#client.ping());
    if (r !== 'PONG') throw new Error(`redis answered PING with ${String(r)}`);
  }

  async reserveSlot(ref: string, clientId: string, caps: SlotCaps, now: number, until: number): Promise<'ok' | 'total' | 'client'> {
    const r = await this.#timed('reserve', [this.#key('slots'), this.#clientSlots(clientId)], now, [ref, until, caps.total, caps.perClient]);
    if (r === 'ok' || r === 'total' || r === 'client') return r;
    throw new Error(`redis reserve script answered ${String(r)}`);
  }

  async releaseSlot(ref: string, clientId: string): Promise<void> {
    await this.#eval('release', [this.#key('slots'), this.#clientSlots(clientId)], [ref]);
  }

  async add(record: SessionRecord, slotUntil: number): Promise<void> {
    const ttl = Math.max(1, slotUntil - record.createdAt) + 3_600_000;
    await this.#timed(
      'add',
      [this.#rec(record.ref), this.#key('slots'), this.#clientSlots(record.clientId), this.#key('deadlines'), this.#key('seen'), this.#key('recorded')],
      record.createdAt,
      [JSON.stringify(record), slotUntil, ttl],
    );
  }

  async get(ref: string, now: number): Promise<SessionRecord | undefined> {
    const r = await this.#timed('get', [this.#rec(ref), this.#key('seen')], now, [ref]);
    if (!Array.isArray(r) || typeof r[0] !== 'string') return undefined;
    const record = JSON.parse(r[0]) as SessionRecord;
    if (r[1] !== null) record.lastSeen = Number(r[1]);
    return toCallerClock(record, Number(r[2]));
  }

  async touch(ref: string, now: number): Promise<boolean> {
    return (await this.#timed('touch', [this.#rec(ref), this.#key('seen')], now, [ref])) === 1;
  }

  async claim(ref: string, now: number, leaseUntil: number, ifDue?: { abandonedBefore: number }): Promise<SessionRecord | undefined> {
    const r = await this.#timed('claim', [this.#rec(ref), this.#key('deadlines'), this.#key('seen')], now, [
      leaseUntil,
      ifDue ? 1 : 0,
      ifDue?.abandonedBefore ?? 0,
      ref,
    ]);
    return Array.isArray(r) && typeof r[0] === 'string' ? toCallerClock(JSON.parse(r[0]) as SessionRecord, Number(r[1])) : undefined;
  }

  async remove(ref: string, clientId: string): Promise<void> {
    await this.#eval(
      'remove',
      [this.#rec(ref), this.#key('slots'), this.#clientSlots(clientId), this.#key('deadlines'), this.#key('seen'), this.#key('recorded')],
      [ref],
    );
  }

  async due(now: number, abandonedBefore: number, limit: number): Promise<string[]> {
    const refs = await this.#timed('due', [this.#key('deadlines'), this.#key('seen')], now, [abandonedBefore, limit]);
    return [...new Set(strings(refs))].slice(0, limit);
  }

  async list(limit: number): Promise<string[]> {
    return this.#run(this.#client.zrange(this.#key('deadlines'), '0', String(limit - 1)));
  }

  async takeToken(key: string, bucket: TokenBucket, now: number): Promise<TokenResult> {
    const wait = await this.#timed('takeToken', [this.#key(`rl:${key}`)], now, [bucket.capacity, bucket.refillPerSecond / 1000]);
    return wait === 0 ? { ok: true } : { ok: false, retryAfterMs: Number(wait) };
  }

  async countUse(key: string, max: number, _now: number, ttlMs: number): Promise<boolean> {
    return (await this.#eval('countUse', [this.#key(`use:${key}`)], [max, Math.max(1, Math.ceil(ttlMs))])) === 1;
  }

  async own(sessionId: string, now: number, keepMs: number): Promise<void> {
    await this.#timed('own', [this.#key('owned')], now, [sessionId, keepMs]);
  }

  async disown(sessionId: string): Promise<void> {
    await this.#run(this.#client.zrem(this.#key('owned'), sessionId));
  }

  async ownership(sessionIds: string[], now: number, ownedSince: number): Promise<SessionOwnership[]> {
    if (!sessionIds.length) return [];
    const r = await this.#timed('ownership', [this.#key('recorded'), this.#key('owned')], now, [ownedSince, ...sessionIds]);
    return strings(r) as SessionOwnership[];
  }

  async intact(): Promise<boolean> {
    // SET NX answers null when the marker is there, OK when it had to be set.
    const set = await this.#run(this.#client.set(this.#key('marker'), String(Date.now()), 'NX'));
    const seenBefore = this.#markerSeen;
    this.#markerSeen = true;
    return set === null || !seenBefore;
  }

  async counts(now: number): Promise<{ sessions: number; slots: number }> {
    const [sessions, slots] = strings(await this.#timed('counts', [this.#key('deadlines'), this.#key('slots')], now, []), true);
    return { sessions: Number(sessions), slots: Number(slots) };
  }

  async close(): Promise<void> {
    // QUIT waits for the replies in flight; without a connection there is nothing to wait for.
    if (this.#client.status === 'ready') await this.#client.quit().catch(() => undefined);
    this.#client.disconnect();
  }

  /** Runs one of SCRIPTS that deals in time: ARGV starts with the caller's `now` and the clock flag. */
  #timed(name: ScriptName, keys: string[], now: number, args: (string | number)[]): Promise<ScriptReply> {
    return this.#eval(name, keys, [now, this.#serverClock, ...args]);
  }

  /** Runs one of SCRIPTS (ioredis sends EVALSHA, and EVAL when the server does not have it yet). */
  #eval(name: ScriptName, keys: string[], args: (string | number)[]): Promise<ScriptReply> {
    const run = (this.#client as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<ScriptReply>>)[name];
    return this.#run(run.call(this.#client, keys.length, ...keys, ...args));
  }

  /** A command's failure as the broker logs it: `redis: …`, with the connection error when there is no connection. */
  #run<T>(command: Promise<T>): Promise<T> {
    return command.catch((err: Error) => {
      const why = err.name === 'MaxRetriesPerRequestError' ? `no connection${this.#lastError ? ` (${this.#lastError})` : ''}` : err.message;
      throw new Error(`redis: ${why}`, { cause: err });
    });
  }

  #key(name: string): string {
    return `${this.#p}${name}`;
  }
  #rec(ref: string): string {
    return `${this.#p}rec:${ref}`;
  }
  #clientSlots(clientId: string): string {
    return `${this.#p}client:${clientId}`;
  }
}

/** A record as stored (server clock) on the clock of the caller whose difference to the server's is `d`. */
function toCallerClock(record: SessionRecord, d: number): SessionRecord {
  record.createdAt -= d;
  record.deadline -= d;
  record.lastSeen -= d;
  if (record.closingUntil !== undefined) record.closingUntil -= d;
  return record;
}

function strings(v: ScriptReply, numbers = false): string[] {
  return Array.isArray(v) ? v.filter((x) => typeof x === 'string' || (numbers && typeof x === 'number')).map(String) : [];
}

/** Checks a Redis URL (`redis://[user:password@]host:port[/db]` or `rediss://…`); throws a TypeError saying what is wrong. */
export function checkRedisUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError('REDIS_URL is not a URL (expected redis://[user:password@]host:port[/db])');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new TypeError(`REDIS_URL must start with redis:// or rediss://, not ${u.protocol}//`);
  }
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new TypeError('REDIS_URL database (the path) must be a number');
}
