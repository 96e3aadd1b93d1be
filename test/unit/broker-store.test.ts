// The broker's stores, side by side: MemoryStore and RedisStore (on a real redis-server) must
// answer every operation the same way — slots, records, leases, due sessions, token buckets, use
// counts, which service sessions were created here. The side-by-side tests run RedisStore on the
// callers' (made-up) clock; its own default, the Redis server's clock, has tests of its own. Also
// RedisStore's connection: reconnection, a URL with credentials and a database, a flushed server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MemoryStore, RedisStore, type SessionRecord, type SessionStore } from '../../src/broker/index.js';
import { checkRedisUrl } from '../../src/broker/redis-store.js';
import { runCleanups, startRedis } from '../support/broker-harness.js';

let redisUrl = '';
const opened: SessionStore[] = [];

before(async () => {
  redisUrl = (await startRedis()).url;
});

after(async () => {
  for (const s of opened) await s.close();
  await runCleanups();
});

/** Two RedisStores sharing `prefix`, as two broker instances do. */
function twoInstances(prefix: string): [RedisStore, RedisStore] {
  const pair: [RedisStore, RedisStore] = [new RedisStore({ url: redisUrl, prefix }), new RedisStore({ url: redisUrl, prefix })];
  opened.push(...pair);
  return pair;
}

let prefixes = 0;
const stores: [string, () => SessionStore][] = [
  ['MemoryStore', () => new MemoryStore()],
  ['RedisStore', () => new RedisStore({ url: redisUrl, prefix: `store-test-${++prefixes}:`, clock: 'caller' })],
];

function record(ref: string, over: Partial<SessionRecord> = {}): SessionRecord {
  return { ref, sessionId: `s-${ref}`, clientId: 'c1', avatarId: 'a', createdAt: 1_000_000, deadline: 1_600_000, lastSeen: 1_000_000, ...over };
}

for (const [name, make] of stores) {
  describe(name, () => {
    const fresh = () => {
      const s = make();
      opened.push(s);
      return s;
    };

    it('reserves slots under the total and per-client caps; expired slots no longer count', async () => {
      const s = fresh();
      const caps = { total: 3, perClient: 2 };
      assert.equal(await s.reserveSlot('r1', 'a', caps, 1000, 5000), 'ok');
      assert.equal(await s.reserveSlot('r2', 'a', caps, 1000, 2000), 'ok');
      assert.equal(await s.reserveSlot('r3', 'a', caps, 1000, 5000), 'client');
      assert.equal(await s.reserveSlot('r3', 'b', caps, 1000, 5000), 'ok');
      assert.equal(await s.reserveSlot('r4', 'b', caps, 1000, 5000), 'total');
      assert.deepEqual(await s.counts(1000), { sessions: 0, slots: 3 });
      // r2's slot ran out at 2000.
      assert.equal(await s.reserveSlot('r4', 'a', caps, 2000, 5000), 'ok');
      await s.releaseSlot('r1', 'a');
      assert.equal(await s.reserveSlot('r5', 'c', caps, 2000, 5000), 'ok');
      assert.equal(await s.reserveSlot('r6', 'c', caps, 2000, 5000), 'total');
    });

    it('stores, touches, claims with a lease, and removes records', async () => {
      const s = fresh();
      assert.equal(await s.reserveSlot('r1', 'c1', { total: 5, perClient: 5 }, 1_000_000, 1_030_000), 'ok');
      await s.add(record('r1'), 1_700_000);
      assert.deepEqual(await s.get('r1', 1_000_000), record('r1'));
      assert.equal(await s.get('nope', 1_000_000), undefined);
      assert.equal(await s.touch('r1', 1_050_000), true);
      assert.equal((await s.get('r1', 1_000_000))?.lastSeen, 1_050_000);
      assert.equal(await s.touch('r1', 1_040_000), true);
      assert.equal((await s.get('r1', 1_000_000))?.lastSeen, 1_050_000, 'touch never goes back in time');
      assert.equal(await s.touch('nope', 1_050_000), false);
      // The slot now holds until 1_700_000, past the pending expiry.
      assert.deepEqual(await s.counts(1_100_000), { sessions: 1, slots: 1 });

      const claimed = await s.claim('r1', 1_100_000, 1_115_000);
      assert.equal(claimed?.closingUntil, 1_115_000);
      assert.equal(claimed?.stopAttempts, 1);
      assert.equal(await s.claim('r1', 1_110_000, 1_125_000), undefined, 'the lease holds');
      const again = await s.claim('r1', 1_115_001, 1_130_000);
      assert.equal(again?.stopAttempts, 2, 'after the lease, another attempt');
      await s.remove('r1', 'c1');
      assert.equal(await s.get('r1', 1_000_000), undefined);
      assert.deepEqual(await s.counts(1_100_000), { sessions: 0, slots: 0 });
      assert.equal(await s.claim('r1', 1_200_000, 1_215_000), undefined);
    });

    it('lists due sessions: past the deadline, silent too long, or a failed stop whose lease ran out', async () => {
      const s = fresh();
      await s.add(record('late', { deadline: 1_100_000 }), 1_200_000);
      await s.add(record('silent', { lastSeen: 1_000_000 }), 1_700_000);
      await s.add(record('alive', { lastSeen: 1_000_000 }), 1_700_000);
      await s.touch('alive', 1_090_000);
      const due = await s.due(1_100_000, 1_050_000, 100);
      assert.deepEqual(due.sort(), ['late', 'silent']);
      // `ifDue` claims only what is due.
      assert.equal(await s.claim('alive', 1_100_000, 1_115_000, { abandonedBefore: 1_050_000 }), undefined);
      assert.equal((await s.claim('late', 1_100_000, 1_115_000, { abandonedBefore: 1_050_000 }))?.sessionId, 's-late');
      assert.equal((await s.claim('silent', 1_100_000, 1_115_000, { abandonedBefore: 1_050_000 }))?.sessionId, 's-silent');
      // Both stops "failed": nobody removed them. Once the leases end they are due again, even the one seen recently.
      await s.touch('silent', 1_101_000);
      assert.deepEqual((await s.due(1_110_000, 1_060_000, 100)).filter((r) => r !== 'late').length, 0);
      assert.deepEqual((await s.due(1_120_000, 1_060_000, 100)).sort(), ['late', 'silent']);
      assert.equal((await s.claim('silent', 1_120_000, 1_135_000, { abandonedBefore: 1_060_000 }))?.stopAttempts, 2);
      assert.deepEqual((await s.list(10)).sort(), ['alive', 'late', 'silent']);
    });

    it('counts uses up to a maximum, per key, and forgets a count after its time', async () => {
      const s = fresh();
      for (let i = 0; i < 3; i++) assert.equal(await s.countUse('stt:a', 3, 1000, 60_000), true);
      assert.equal(await s.countUse('stt:a', 3, 1000, 60_000), false);
      assert.equal(await s.countUse('stt:b', 3, 1000, 60_000), true, 'counts are per key');
      assert.equal(await s.countUse('stt:short', 1, 1000, 30), true);
      assert.equal(await s.countUse('stt:short', 1, 1000, 30), false);
      await sleep(80);
      assert.equal(await s.countUse('stt:short', 1, 1080, 30), true, 'forgotten after its time');
    });

    it('tells recorded, owned and unknown service sessions apart', async () => {
      const s = fresh();
      const keep = 600_000;
      await s.own('s-r1', 1_000_000, keep);
      await s.own('s-gone', 1_000_000, keep);
      await s.add(record('r1'), 1_700_000);
      await s.own('s-old', 200_000, keep);
      assert.deepEqual(await s.ownership(['s-r1', 's-gone', 's-other', 's-old'], 1_000_000, 1_000_000 - keep), ['recorded', 'owned', 'unknown', 'unknown']);
      await s.remove('r1', 'c1');
      assert.deepEqual(await s.ownership(['s-r1', 's-gone'], 1_100_000, 1_100_000 - keep), ['owned', 'owned'], 'owned outlives its record');
      await s.disown('s-r1');
      assert.deepEqual(await s.ownership(['s-r1', 's-gone'], 1_100_000, 1_100_000 - keep), ['unknown', 'owned']);
      assert.deepEqual(await s.ownership([], 1_100_000, 0), []);
      assert.equal(await s.intact(), true);
      assert.equal(await s.intact(), true);
    });

    it('runs token buckets: the burst, then the refill rate, with the wait until the next token', async () => {
      const s = fresh();
      const bucket = { capacity: 3, refillPerSecond: 2 };
      for (let i = 0; i < 3; i++) assert.deepEqual(await s.takeToken('k', bucket, 10_000), { ok: true });
      assert.deepEqual(await s.takeToken('k', bucket, 10_000), { ok: false, retryAfterMs: 500 });
      assert.deepEqual(await s.takeToken('k', bucket, 10_250), { ok: false, retryAfterMs: 250 });
      assert.deepEqual(await s.takeToken('k', bucket, 10_500), { ok: true });
      assert.deepEqual(await s.takeToken('other', bucket, 10_500), { ok: true }, 'buckets are per key');
      // A long pause fills the bucket to its capacity, not beyond.
      for (let i = 0; i < 3; i++) assert.deepEqual(await s.takeToken('k', bucket, 100_000), { ok: true });
      assert.equal((await s.takeToken('k', bucket, 100_000)).ok, false);
    });
  });
}

describe('RedisStore: instances whose clocks disagree', () => {
  it('dates slots, signs of life and buckets by the Redis server’s clock, not each caller’s', async () => {
    const [right, ahead] = twoInstances('store-skew:');
    // Instance B's clock runs a minute ahead of A's (and of the Redis server's).
    const skew = 60_000;
    const caps = { total: 1, perClient: 1 };
    const t = Date.now();
    assert.equal(await right.reserveSlot('r1', 'c1', caps, t, t + 35_000), 'ok');
    assert.equal(await ahead.reserveSlot('r2', 'c2', caps, t + skew, t + skew + 35_000), 'total', "A's slot still holds when B looks");
    // A session A created and keeps alive is not silent to B's reaper.
    await right.add(record('live', { createdAt: t, lastSeen: t, deadline: t + 600_000 }), t + 600_000);
    assert.deepEqual(await ahead.due(t + skew, t + skew - 30_000, 10), [], 'not abandoned');
    assert.equal(await ahead.claim('live', t + skew, t + skew + 15_000, { abandonedBefore: t + skew - 30_000 }), undefined);
    // What each instance reads back is on its own clock.
    const seenByB = await ahead.get('live', t + skew);
    assert.ok(Math.abs(seenByB!.createdAt - (t + skew)) < 1000, `created ${seenByB!.createdAt - t} ms after t on B's clock`);
    assert.ok(Math.abs((await right.get('live', t))!.deadline - (t + 600_000)) < 1000);
    // One bucket, whichever clock asks: B's minute ahead does not refill it.
    const bucket = { capacity: 1, refillPerSecond: 1 / 60 };
    assert.deepEqual(await right.takeToken('k', bucket, t), { ok: true });
    assert.equal((await ahead.takeToken('k', bucket, t + skew)).ok, false);
  });
});

describe('RedisStore: a server that lost its data', () => {
  it('says so once (intact false), after the marker it set is gone', async () => {
    const [store, other] = twoInstances('store-wipe:');
    assert.equal(await store.intact(), true);
    assert.equal(await store.intact(), true);
    const admin = new Redis(redisUrl);
    await admin.del('store-wipe:marker');
    await admin.quit();
    assert.equal(await store.intact(), false, 'the marker was gone');
    assert.equal(await store.intact(), true, 'and is set again');
    assert.equal(await other.intact(), true, 'an instance that never saw the marker cannot tell');
  });
});

describe('RedisStore under concurrency', () => {
  it('two stores on one server never exceed the cap, whatever the interleaving', async () => {
    const [a, b] = twoInstances('store-race:');
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserveSlot(`r${i}`, `c${i % 7}`, { total: 10, perClient: 2 }, 1000, 9000)));
    assert.equal(answers.filter((x) => x === 'ok').length, 10);
    assert.deepEqual(await a.counts(1000), { sessions: 0, slots: 10 });
    // Two reapers claiming the same sessions: each is claimed exactly once.
    for (let i = 0; i < 20; i++) await a.add(record(`x${i}`, { deadline: 1000 }), 9000);
    const claims = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).claim(`x${i % 20}`, 2000, 20_000, { abandonedBefore: 0 })));
    assert.equal(claims.filter(Boolean).length, 20);
  });

  it('reconnects after the connection drops', async () => {
    const store = new RedisStore({ url: redisUrl, prefix: 'store-reconnect:' });
    opened.push(store);
    const admin = new Redis(redisUrl);
    const storeConnection = async () => {
      const list = String(await admin.client('LIST'));
      return /id=(\d+) [^\n]*name=heygen-avatar-broker/.exec(list)?.[1];
    };
    assert.equal(await store.reserveSlot('r1', 'c1', { total: 5, perClient: 5 }, 1000, 9000), 'ok');
    const id = await storeConnection();
    assert.ok(id, 'the store names its connection');
    assert.equal(await admin.client('KILL', 'ID', id), 1);
    await sleep(50);
    // The next command goes out on a new connection, and the state is still there.
    assert.deepEqual(await store.counts(1000), { sessions: 0, slots: 1 });
    const again = await storeConnection();
    assert.ok(again && again !== id, `a new connection (${again} after ${id})`);
    await admin.quit();
  });

  it('connects with the password and database of its URL (percent-encoded characters too)', async () => {
    const password = 'p@ss:w/rd';
    const locked = await startRedis({ password });
    const store = new RedisStore({ url: `${locked.url}/3`, prefix: 'store-auth:' });
    opened.push(store);
    assert.equal(await store.reserveSlot('r1', 'c1', { total: 5, perClient: 5 }, 1000, 9000), 'ok');
    const admin = new Redis(`${locked.url}/3`);
    assert.equal(await admin.zcard('store-auth:slots'), 1, 'the slot is in database 3');
    await admin.quit();
    const refused = new RedisStore({ url: locked.url.replace(encodeURIComponent(password), 'wrong'), prefix: 'store-auth:' });
    opened.push(refused);
    await assert.rejects(refused.ping(), /WRONGPASS|NOAUTH|invalid/i);
  });
});

describe('Redis URLs', () => {
  it('takes redis:// and rediss:// URLs, and says what is wrong with others', () => {
    checkRedisUrl('redis://127.0.0.1:6390/2');
    checkRedisUrl('rediss://user:p%40ss@cache.example');
    assert.throws(() => checkRedisUrl('http://x'), /redis:\/\/ or rediss:\/\//);
    assert.throws(() => checkRedisUrl('redis://x/db'), /must be a number/);
    assert.throws(() => checkRedisUrl('not a url'), /not a URL/);
  });
});
