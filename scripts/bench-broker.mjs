#!/usr/bin/env node
// Load benchmark of the session broker against the offline stand-ins on loopback.
//
//   node --import tsx --expose-gc scripts/bench-broker.mjs [--store memory|redis|both] [--cycles 10000]
//
// Prints, per store:
//   1. session creations per second (create + close, N concurrent clients), next to the same
//      upstream calls made directly against the stand-ins (the baseline: what the broker adds);
//   2. LLM-route requests per second (LLM stand-in: time to first token 0, fast token rate), next
//      to the same requests made directly against the stand-in;
//   3. the broker process's heap and RSS before and after `--cycles` session create/close cycles
//      (garbage collected first, in the broker process, with --expose-gc).
// The broker runs in its own process; the stand-ins and the load generator share this one, so
// the figures are a lower bound of what the broker alone sustains.
import { fork, spawnSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const KEYS = { heygen: 'bench-heygen-key', deepgram: 'bench-deepgram-key', gemini: 'bench-gemini-key' };
const ORIGIN = 'http://bench.local';

// ── the broker process ──────────────────────────────────────────────────────────────────────

async function brokerChild() {
  const { startBrokerServer } = await import('../src/broker/index.ts');
  const config = JSON.parse(process.env.BENCH_BROKER_CONFIG ?? '{}');
  const server = await startBrokerServer({ ...config, logger: () => undefined }, { port: 0 });
  const memory = () => {
    for (let i = 0; i < 3; i++) globalThis.gc?.();
    const m = process.memoryUsage();
    return { heapUsed: m.heapUsed, rss: m.rss, external: m.external, gc: typeof globalThis.gc === 'function' };
  };
  process.on('message', async (msg) => {
    if (msg === 'mem') process.send({ mem: memory() });
    if (msg === 'stop') {
      await server.close();
      process.send({ stopped: true });
      process.exit(0);
    }
  });
  process.send({ url: server.url });
}

function startBroker(config) {
  const child = fork(SELF, ['--broker-child'], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: { ...process.env, BENCH_BROKER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (key) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m && key in m) {
          child.off('message', onMessage);
          resolve(m[key]);
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`broker process exited (${code})`)));
    });
  return next('url').then((url) => ({
    url,
    api: `${url}/api/avatar`,
    async memory() {
      const m = next('mem');
      child.send('mem');
      return m;
    },
    async stop() {
      const s = next('stopped').catch(() => undefined);
      child.send('stop');
      await s;
    },
  }));
}

// ── the load ────────────────────────────────────────────────────────────────────────────────

async function post(url, body, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} → HTTP ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

/** Runs `total` calls of `fn(i, worker)` over `concurrency` workers; returns calls/s and latency percentiles. */
async function load(total, concurrency, fn) {
  let next = 0;
  const latencies = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        await fn(i, worker);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { perSecond: total / seconds, p50: pct(50), p99: pct(99) };
}

async function sessionCycle(api, client) {
  const s = JSON.parse(await post(`${api}/session`, { language: 'en' }, { 'x-bench-client': client }));
  await post(s.closeUrl, JSON.stringify({ sessionId: s.sessionId, sessionKey: s.sessionKey }), { 'content-type': 'text/plain' });
}

/** What a broker does upstream for one session, without a broker: the baseline. */
async function directCycle(world) {
  const heygen = async (path, body, headers) =>
    JSON.parse(await post(`${world.heygen.url}/v1/${path}`, body, headers)).data;
  const [{ token }] = await Promise.all([
    heygen('streaming.create_token', {}, { 'x-api-key': KEYS.heygen }),
    post(`${world.deepgram.url}/v1/auth/grant`, { ttl_seconds: 30 }, { authorization: `Token ${KEYS.deepgram}` }),
  ]);
  const session = await heygen(
    'streaming.new',
    { quality: 'medium', avatar_id: 'Anna_public_3', voice: { rate: 1 }, version: 'v2', video_encoding: 'VP8', language: 'en', activity_idle_timeout: 120 },
    { authorization: `Bearer ${token}` },
  );
  await heygen('streaming.stop', { session_id: session.session_id }, { 'x-api-key': KEYS.heygen });
}

const LLM_BODY = { messages: [{ role: 'user', content: 'What is the weather like today?' }] };

function countDeltas(text) {
  if (!text.includes('"type":"done"')) throw new Error(`LLM stream did not finish: ${text.slice(-200)}`);
  return text.split('"type":"delta"').length - 1;
}

async function directLlm(world) {
  const text = await post(
    `${world.llm.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
    { contents: [{ role: 'user', parts: [{ text: LLM_BODY.messages[0].content }] }], generationConfig: { thinkingConfig: { thinkingBudget: 0 } } },
    { 'x-goog-api-key': KEYS.gemini },
  );
  if (!text.includes('STOP')) throw new Error('direct LLM stream did not finish');
}

// ── main ────────────────────────────────────────────────────────────────────────────────────

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const fmt = (r) => `${r.perSecond.toFixed(0).padStart(6)} /s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms`;

async function startRedis() {
  const { freeTcpPort } = await import('./livekit.mjs');
  const port = await freeTcpPort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const { RedisStore } = await import('../src/broker/index.ts');
  const url = `redis://127.0.0.1:${port}`;
  const probe = new RedisStore({ url });
  for (let i = 0; ; i++) {
    try {
      await probe.ping();
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await probe.close();
  return {
    url,
    stop: () =>
      new Promise((r) => {
        proc.once('exit', r);
        proc.kill('SIGTERM');
      }),
  };
}

async function main() {
  const cycles = Number(arg('--cycles', '10000'));
  const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
  const storeArg = arg('--store', hasRedis ? 'both' : 'memory');
  const storeKinds = storeArg === 'both' ? ['memory', 'redis'] : [storeArg];
  if (storeKinds.includes('redis') && !hasRedis) throw new Error('--store redis needs redis-server on PATH');

  const { startOfflineWorld } = await import('../src/offline/world.ts');
  const world = await startOfflineWorld({
    heygen: { maxConcurrentSessions: 1_000_000 },
    llm: { ttftMs: 0, tokensPerSecond: 100_000 },
  });
  // The world's fixed keys; the brokers below use them.
  Object.assign(KEYS, { heygen: world.keys.heygen, deepgram: world.keys.deepgram, gemini: world.keys.gemini });
  const redis = storeKinds.includes('redis') ? await startRedis() : undefined;
  console.log(`heygen-avatar broker benchmark — Node ${process.version}, loopback, stand-ins in the load process\n`);

  try {
    // Warm-up of the baselines (the same upstream work without a broker), measured below beside each broker figure.
    await load(200, 8, () => directCycle(world));
    await load(200, 16, () => directLlm(world));

    for (const kind of storeKinds) {
      const broker = await startBroker({
        heygen: { apiKey: KEYS.heygen, apiBase: world.heygen.url },
        deepgram: { apiKey: KEYS.deepgram, apiBase: world.deepgram.url },
        llm: { provider: 'gemini', apiKey: KEYS.gemini, apiBase: world.llm.url, systemPrompt: 'You are a benchmark.' },
        avatarIds: ['Anna_public_3'],
        languages: ['en'],
        allowedOrigins: [ORIGIN],
        trustProxy: 'x-bench-client',
        maxSessions: 100_000,
        maxSessionsPerClient: 100_000,
        rateLimits: { session: { perMinute: 1e7, burst: 1e6 }, llm: { perMinute: 1e7, burst: 1e6 }, sttToken: { perMinute: 1e7, burst: 1e6 } },
        ...(kind === 'redis' ? { redisUrl: redis.url, redisPrefix: `bench-${Date.now()}:` } : {}),
      });
      try {
        console.log(`── store: ${kind}`);
        await load(300, 8, (i, w) => sessionCycle(broker.api, `warm-${w}`));
        for (const n of [1, 16]) {
          const total = n === 1 ? 500 : 2000;
          // The baseline right before, so both see the stand-ins in the same state.
          const base = await load(total, n, () => directCycle(world));
          const r = await load(total, n, (i, w) => sessionCycle(broker.api, `client-${w}`));
          console.log(`session create+close, ${String(n).padStart(2)} client(s): ${fmt(r)}   (direct upstream calls: ${base.perSecond.toFixed(0)} /s, ratio ${(r.perSecond / base.perSecond).toFixed(2)})`);
        }

        const s = JSON.parse(await post(`${broker.api}/session`, {}, { 'x-bench-client': 'llm' }));
        const auth = { authorization: `Bearer ${s.sessionKey}`, 'x-bench-client': 'llm' };
        let deltas = 0;
        await load(200, 16, async () => countDeltas(await post(s.llm.url, LLM_BODY, auth)));
        const baseLlm = await load(3000, 32, () => directLlm(world));
        const llmRun = await load(3000, 32, async () => {
          deltas = countDeltas(await post(s.llm.url, LLM_BODY, auth));
        });
        console.log(`LLM route, 32 concurrent streams (${deltas} deltas each): ${fmt(llmRun)}   (direct to the stand-in: ${baseLlm.perSecond.toFixed(0)} /s, ratio ${(llmRun.perSecond / baseLlm.perSecond).toFixed(2)})`);
        await post(s.closeUrl, JSON.stringify({ sessionId: s.sessionId, sessionKey: s.sessionKey }), { 'content-type': 'text/plain' });

        const before = await broker.memory();
        if (!before.gc) console.log('  (the broker process has no gc(): figures include garbage)');
        const t0 = performance.now();
        const half = Math.floor(cycles / 2);
        const first = await load(half, 16, (i, w) => sessionCycle(broker.api, `mem-${w}`));
        const middle = await broker.memory();
        const second = await load(cycles - half, 16, (i, w) => sessionCycle(broker.api, `mem-${w}`));
        const after = await broker.memory();
        const rate = cycles / ((performance.now() - t0) / 1000);
        const delta = (a, b) => `${b >= a ? '+' : ''}${mb(b - a)}`;
        console.log(
          `${cycles} create/close cycles, 16 clients (${rate.toFixed(0)} /s; p99 ${Math.max(first.p99, second.p99).toFixed(0)} ms):\n` +
            `  heap ${mb(before.heapUsed)} → ${mb(middle.heapUsed)} after ${half} → ${mb(after.heapUsed)} after ${cycles} (${delta(before.heapUsed, after.heapUsed)}; second half ${delta(middle.heapUsed, after.heapUsed)})\n` +
            `  RSS  ${mb(before.rss)} → ${mb(middle.rss)} → ${mb(after.rss)} (${delta(before.rss, after.rss)}; second half ${delta(middle.rss, after.rss)})`,
        );
        const health = JSON.parse(await (await fetch(`${broker.api}/healthz`)).text());
        console.log(`after the run: ${health.sessions} session records, ${health.slots} slots held, HeyGen stand-in open sessions ${world.heygen.openSessions}\n`);
      } finally {
        await broker.stop();
      }
    }
  } finally {
    await redis?.stop();
    await world.close();
  }
}

if (process.argv.includes('--broker-child')) await brokerChild();
else await main();
