// Session records, concurrency slots and rate-limit buckets in Redis, shared by every broker
// instance that points at the same server and prefix. Each check-and-change is one Lua script
// (ioredis sends EVALSHA, falling back to EVAL), so caps and limits hold across instances.
import { Redis } from 'ioredis';
import type { SessionRecord, SessionStore, SlotCaps, TokenBucket, TokenResult } from './store.js';

export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  url: string;
  /** Key prefix; default `heygen-avatar:`. Instances that share sessions use the same one. */
  prefix?: string;
  /** ms per command; default 5000. */
  commandTimeoutMs?: number;
}

// KEYS: slots, clientSlots. ARGV: ref, now, until, total, perClient.
const RESERVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 'total' end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 'client' end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[2], math.max(1, math.ceil(tonumber(last[2]) - tonumber(ARGV[2]))) + 60000)
return 'ok'`;

// KEYS: rec, slots, clientSlots, deadlines, seen. ARGV: json, ref, slotUntil, deadline, lastSeen, recordTtlMs, now.
// (Expiries are relative: the callers' clock, not Redis's, dates the scores.)
const ADD = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[3], math.max(1, math.ceil(tonumber(last[2]) - tonumber(ARGV[7]))) + 60000)
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[2])
return 1`;

// KEYS: rec, seen. ARGV: ref.
const GET = `
local j = redis.call('GET', KEYS[1])
if not j then return false end
return {j, redis.call('ZSCORE', KEYS[2], ARGV[1])}`;

// KEYS: rec, seen. ARGV: ref, now.
const TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[1])
return 1`;

// KEYS: rec, deadlines, seen. ARGV: now, leaseUntil, ifDue (0|1), abandonedBefore, ref.
const CLAIM = `
local j = redis.call('GET', KEYS[1])
if not j then
  redis.call('ZREM', KEYS[2], ARGV[5])
  redis.call('ZREM', KEYS[3], ARGV[5])
  return false
end
local r = cjson.decode(j)
local now = tonumber(ARGV[1])
if r.closingUntil and r.closingUntil > now then return false end
local seen = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[5]) or r.lastSeen)
r.lastSeen = seen
if ARGV[3] == '1' and not (r.deadline <= now or seen < tonumber(ARGV[4]) or r.closingUntil) then return false end
r.closingUntil = tonumber(ARGV[2])
r.stopAttempts = (r.stopAttempts or 0) + 1
local out = cjson.encode(r)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[5])
return out`;

// KEYS: rec, slots, clientSlots, deadlines, seen. ARGV: ref.
const REMOVE = `
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

// KEYS: bucket. ARGV: capacity, refillPerMs, now.
// Returns 0 when a token was taken, else the ms until one is available.
const TAKE_TOKEN = `
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local t = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
if now > at then t = math.min(cap, t + (now - at) * rate) end
local wait = 0
if t >= 1 then t = t - 1 else wait = math.ceil((1 - t) / rate) end
redis.call('HSET', KEYS[1], 't', tostring(t), 'at', tostring(math.max(now, at)))
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - t) / rate) + 1000)
return wait`;

const SCRIPTS = {
  reserve: RESERVE,
  add: ADD,
  get: GET,
  touch: TOUCH,
  claim: CLAIM,
  remove: REMOVE,
  release: RELEASE,
  takeToken: TAKE_TOKEN,
};
type ScriptName = keyof typeof SCRIPTS;
type ScriptReply = string | number | null | ScriptReply[];

/** The Redis-backed store, on ioredis (reconnection, the scripts' EVALSHA with EVAL fallback, timeouts). */
export class RedisStore implements SessionStore {
  readonly kind = 'redis';
  readonly shared = true;
  readonly #client: Redis;
  readonly #p: string;
  #lastError = '';

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
  }

  /** Checks the connection (PING). */
  async ping(): Promise<void> {
    const r = await this.#run(this.#client.ping());
    if (r !== 'PONG') throw new Error(`redis answered PING with ${String(r)}`);
  }

  async reserveSlot(ref: string, clientId: string, caps: SlotCaps, now: number, until: number): Promise<'ok' | 'total' | 'client'> {
    const r = await this.#eval('reserve', [this.#slots, this.#clientSlots(clientId)], [ref, now, until, caps.total, caps.perClient]);
    if (r === 'ok' || r === 'total' || r === 'client') return r;
    throw new Error(`redis reserve script answered ${String(r)}`);
  }

  async releaseSlot(ref: string, clientId: string): Promise<void> {
    await this.#eval('release', [this.#slots, this.#clientSlots(clientId)], [ref]);
  }

  async add(record: SessionRecord, slotUntil: number): Promise<void> {
    const ttl = Math.max(1, slotUntil - record.createdAt) + 3_600_000;
    await this.#eval(
      'add',
      [this.#rec(record.ref), this.#slots, this.#clientSlots(record.clientId), this.#deadlines, this.#seen],
      [JSON.stringify(record), record.ref, slotUntil, record.deadline, record.lastSeen, ttl, record.createdAt],
    );
  }

  async get(ref: string): Promise<SessionRecord | undefined> {
    const r = await this.#eval('get', [this.#rec(ref), this.#seen], [ref]);
    if (!Array.isArray(r) || typeof r[0] !== 'string') return undefined;
    const record = JSON.parse(r[0]) as SessionRecord;
    if (r[1] !== null && r[1] !== undefined) record.lastSeen = Number(r[1]);
    return record;
  }

  async touch(ref: string, now: number): Promise<boolean> {
    return (await this.#eval('touch', [this.#rec(ref), this.#seen], [ref, now])) === 1;
  }

  async claim(ref: string, now: number, leaseUntil: number, ifDue?: { abandonedBefore: number }): Promise<SessionRecord | undefined> {
    const r = await this.#eval('claim', [this.#rec(ref), this.#deadlines, this.#seen], [now, leaseUntil, ifDue ? 1 : 0, ifDue?.abandonedBefore ?? 0, ref]);
    return typeof r === 'string' ? (JSON.parse(r) as SessionRecord) : undefined;
  }

  async remove(ref: string, clientId: string): Promise<void> {
    await this.#eval('remove', [this.#rec(ref), this.#slots, this.#clientSlots(clientId), this.#deadlines, this.#seen], [ref]);
  }

  async due(now: number, abandonedBefore: number, limit: number): Promise<string[]> {
    const [byDeadline, bySilence] = await Promise.all([
      this.#run(this.#client.zrangebyscore(this.#deadlines, '-inf', now, 'LIMIT', 0, limit)),
      this.#run(this.#client.zrangebyscore(this.#seen, '-inf', `(${abandonedBefore}`, 'LIMIT', 0, limit)),
    ]);
    return [...new Set([...byDeadline, ...bySilence])].slice(0, limit);
  }

  async list(limit: number): Promise<string[]> {
    return this.#run(this.#client.zrange(this.#deadlines, '0', String(limit - 1)));
  }

  async takeToken(key: string, bucket: TokenBucket, now: number): Promise<TokenResult> {
    const wait = await this.#eval('takeToken', [`${this.#p}rl:${key}`], [bucket.capacity, bucket.refillPerSecond / 1000, now]);
    return wait === 0 ? { ok: true } : { ok: false, retryAfterMs: Number(wait) };
  }

  async counts(now: number): Promise<{ sessions: number; slots: number }> {
    const [sessions, slots] = await Promise.all([this.#run(this.#client.zcard(this.#deadlines)), this.#run(this.#client.zcount(this.#slots, `(${now}`, '+inf'))]);
    return { sessions, slots };
  }

  async close(): Promise<void> {
    // QUIT waits for the replies in flight; without a connection there is nothing to wait for.
    if (this.#client.status === 'ready') await this.#client.quit().catch(() => undefined);
    this.#client.disconnect();
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

  get #slots(): string {
    return `${this.#p}slots`;
  }
  get #deadlines(): string {
    return `${this.#p}deadlines`;
  }
  get #seen(): string {
    return `${this.#p}seen`;
  }
  #rec(ref: string): string {
    return `${this.#p}rec:${ref}`;
  }
  #clientSlots(clientId: string): string {
    return `${this.#p}client:${clientId}`;
  }
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
