#!/usr/bin/env node
// Conversation latency of <heygen-avatar>, end to end, against the offline world:
//   node --import tsx scripts/bench-latency.mjs [--turns 20] [--blocks 2]
// Headless Chromium (Debian's) hears the espeak-ng question "what is the weather like today" from
// its fake microphone (looping every ~5.2 s); the built script bundle runs the whole loop through a
// session broker, the Deepgram / LLM / HeyGen stand-ins and a real LiveKit server, all on loopback.
// Three configurations, in alternating blocks of one session each, in the same run:
//   streamed    the element's default LLM route: SSE chunks, each sentence sent as soon as it is
//               complete; the LLM asked once the turn is confirmed (`no-preemptive`)
//   baseline    an `llm` property that reads the whole reply from the same route and returns one
//               string (`no-preemptive`)
//   preemptive  the default route with preemptive replies (the element's default): the LLM asked at
//               the first pause, its reply held until the turn is confirmed
// Per turn and as p50/p95 it prints: end of speech → turn event, end of speech → the reply's LLM call
// reaching the LLM stand-in, turn → first reply-delta, turn →
// first complete sentence (the LLM's first-sentence time), first complete sentence → its
// `streaming.task` arriving at the HeyGen stand-in, that task → `avatar_start_talking` in the page,
// end of speech → first avatar audio, and end of speech → first task request (the headline, against
// the LLM's generation time after its first sentence). Then the LLM calls per turn (from the LLM
// stand-in's log) and the speculative calls cancelled, and the element's own heygen-avatar:metrics
// figures beside the measured ones.
// The element listens (unmuted) from a quiet moment of the looping question until its turn event;
// after the reply, once the avatar's voice has been heard, `interrupt()` cuts it short, so every
// counted turn starts from a quiet avatar and an idle conversation. The run's first turn is a warm-up.
// See scripts/bench/latency-page.js for how the page measures.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { chromiumArgs, chromiumPath } from '../test/support/chromium.mjs';
import { makeTestFixtures } from './fixtures.mjs';
import { startOfflineWorld } from '../src/offline/world.ts';
import { startBrokerServer } from '../src/broker/index.ts';
import { splitTokens } from '../src/offline/llm/index.ts';
import { SentenceChunker } from '../src/conversation/sentences.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// @livekit/rtc-node (the synthetic avatar's publisher) logs at debug level outside production: keep
// its "Connect callback received" lines out of the table.
try {
  createRequire(import.meta.url)(join(ROOT, 'node_modules/@livekit/rtc-node/dist/log.cjs')).log.level = 'info';
} catch {
  // another layout: the lines stay
}
const QUESTION = 'what is the weather like today';
/** Four sentences of about ten words: the LLM keeps generating for a while after the first. */
const REPLY =
  'It is sunny and mild today with a light breeze. ' +
  'The temperature should reach twenty degrees by early afternoon. ' +
  'Clouds may gather in the evening, but rain is unlikely. ' +
  'Take a light jacket if you stay out late tonight.';
const LLM_CLOCK = { ttftMs: 300, tokensPerSecond: 40 };
const TARGET_ADDED_MS = 30;
/** Preemptive replies: end of speech → first task at most this much over the LLM's first-sentence time. */
const TARGET_PREEMPTIVE_MS = 150;
const MODES = ['streamed', 'baseline', 'preemptive'];

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  const value = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}
const TURNS = option('turns', 20);
const BLOCKS = option('blocks', 2);

const log = (line = '') => process.stdout.write(`${line}\n`);
const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;

// ---- the built widget -------------------------------------------------------------------------

const BUNDLE = join(ROOT, 'dist/heygen-avatar.js');
const CHUNKER = join(ROOT, 'dist/npm/conversation/sentences.js');
if (!existsSync(BUNDLE) || !existsSync(CHUNKER)) {
  log(`dist/heygen-avatar.js (or dist/npm/) is missing: running \`npm run build\` first.`);
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0 || !existsSync(BUNDLE)) throw new Error('npm run build failed');
}
const { mic: MIC_WAV } = makeTestFixtures();
/** The fake microphone's loop: mic.wav is 1.5 s of silence, the question, 1.5 s of silence. */
const LOOP_MS = wavDurationMs(MIC_WAV);

function wavDurationMs(path) {
  const wav = readFileSync(path);
  const rate = wav.readUInt32LE(24);
  const bytesPerFrame = wav.readUInt16LE(32);
  for (let o = 12; o + 8 <= wav.length; o += 8 + wav.readUInt32LE(o + 4)) {
    if (wav.toString('latin1', o, o + 4) === 'data') return (wav.readUInt32LE(o + 4) / bytesPerFrame / rate) * 1000;
  }
  throw new Error(`${path}: no data chunk`);
}

/** What the page server serves, read once now (another build rewriting dist/ cannot break a run). */
function snapshot() {
  const files = new Map();
  const add = (url, path) => files.set(url, readFileSync(path));
  add('/dist/heygen-avatar.js', BUNDLE);
  add('/dist/npm/conversation/sentences.js', CHUNKER);
  const chunks = join(ROOT, 'dist/chunks');
  for (const name of readdirSync(chunks)) {
    if (name.endsWith('.js') && statSync(join(chunks, name)).isFile()) add(`/dist/chunks/${name}`, join(chunks, name));
  }
  add('/bench/latency-page.js', join(ROOT, 'scripts/bench/latency-page.js'));
  files.set(
    '/',
    Buffer.from('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>heygen-avatar latency</title></head>' +
      '<body><script type="module" src="/bench/latency-page.js"></script></body></html>'),
  );
  return files;
}

async function startPageServer(files) {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const body = req.method === 'GET' ? files.get(path) : undefined;
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': path.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(() => r())) };
}

// ---- figures ----------------------------------------------------------------------------------

/** Percentile with linear interpolation between order statistics. */
function percentile(values, p) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const x = (v.length - 1) * p;
  const lo = Math.floor(x);
  return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (x - lo);
}

const fmt = (ms, width = 8, digits = 0) => (Number.isFinite(ms) ? ms.toFixed(digits) : 'n/a').padStart(width);

/** Generation time after the first complete sentence, from the stand-in's clock. */
function nominalGenerationAfterFirstSentence() {
  const tokens = splitTokens(REPLY);
  const chunker = new SentenceChunker();
  const first = tokens.findIndex((t) => chunker.push(t).length > 0);
  return { ms: ((tokens.length - 1 - first) * 1000) / LLM_CLOCK.tokensPerSecond, tokens: tokens.length, firstSentenceTokens: first + 1 };
}

const FIGURES = [
  ['eosToTurn', '1 end of speech → heygen-avatar:turn'],
  ['eosToCall', '  end of speech → the reply’s LLM call at the stand-in'],
  ['turnToDelta', '2 turn → first reply-delta'],
  ['turnToSentence', '  turn → first sentence complete (LLM first sentence)'],
  ['sentenceToTask', '3 first sentence complete → streaming.task on the wire'],
  ['sentenceToFetch', '  3a  sentence complete → fetch() started in the page'],
  ['fetchToTask', '  3b  fetch() started → arrival (loopback + stand-in loop)'],
  ['taskToTalking', '4 streaming.task → avatar_start_talking (talking event)'],
  ['eosToAudio', '5 end of speech → first avatar audio in the page'],
  ['eosToTask', '  end of speech → first streaming.task (headline)'],
  ['turnToTask', '  turn → first streaming.task (the same, without STT)'],
];

/** Figures in the ms range, printed with a decimal. */
const DECIMALS = new Set(['sentenceToTask', 'sentenceToFetch', 'fetchToTask']);

// ---- the run ----------------------------------------------------------------------------------

const files = snapshot();
const pageServer = await startPageServer(files);
let world;
let broker;
let browser;
let failed = false;
const pageProblems = [];
const LOOP_DELAY_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
try {
  world = await startOfflineWorld({ llm: LLM_CLOCK, heygen: { maxConcurrentSessions: 5 } });
  world.llm.configure({ replies: [{ match: 'weather', reply: REPLY }] });
  // The stand-ins, the broker and the synthetic avatar's painter share this process's event loop:
  // its delays are part of every "on the wire" stamp.
  loopDelay.enable();
  broker = await startBrokerServer(
    {
      heygen: { apiKey: world.keys.heygen, apiBase: world.heygen.url },
      deepgram: { apiKey: world.keys.deepgram, apiBase: world.deepgram.url },
      llm: { provider: 'gemini', apiKey: world.keys.gemini, apiBase: world.llm.url, systemPrompt: 'You are a helpful avatar.' },
      avatarIds: ['Anna_public_3'],
      allowedOrigins: [pageServer.origin],
      maxSessions: 5,
      maxSessionsPerClient: 5,
      logLevel: 'warn',
    },
    { port: 0 },
  );
  browser = await puppeteer.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs, protocolTimeout: 900_000 });
  const page = await browser.newPage();
  page.on('pageerror', (err) => pageProblems.push(`page error: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) pageProblems.push(`HTTP ${res.status()} for ${res.request().method()} ${new URL(res.url()).pathname}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') pageProblems.push(`console.${m.type()}: ${m.text()}`);
  });
  await page.goto(`${pageServer.origin}/`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.latencyBenchReady === true, { timeout: 30_000 });

  const generation = nominalGenerationAfterFirstSentence();
  const loadBefore = os.loadavg();
  log(`heygen-avatar latency benchmark: offline world on loopback (LiveKit server, HeyGen/Deepgram/LLM stand-ins), broker, ${await browser.version()} headless`);
  log(`fake microphone: "${QUESTION}" looping every ${(LOOP_MS / 1000).toFixed(1)} s; LLM stand-in: ${LLM_CLOCK.ttftMs} ms to first token, ${LLM_CLOCK.tokensPerSecond} tokens/s; ` +
    `scripted reply of 4 sentences, ${generation.tokens} tokens (first sentence ${generation.firstSentenceTokens})`);
  log(`machine: ${os.cpus().length} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} at start`);
  log(`streamed = the element's default LLM route (sentences go to the avatar as they complete), asked once the turn is confirmed; ` +
    `baseline = an \`llm\` property returning the whole reply from the same route; preemptive = streamed, asked at the first pause (the default)`);
  log();

  // Alternate the configurations so machine load (2 shared cores) falls on both alike.
  const plan = [];
  for (let b = 0; b < BLOCKS; b++) {
    const turns = Math.floor(TURNS / BLOCKS) + (b < TURNS % BLOCKS ? 1 : 0);
    for (const mode of MODES) plan.push({ mode, turns: turns + (plan.length === 0 ? 1 : 0) }); // + the run's warm-up turn
  }
  const blocks = [];
  for (const [i, step] of plan.entries()) {
    const started = performance.now();
    const from = Date.now();
    const block = await page.evaluate((args) => window.latencyBench.runBlock(args), {
      mode: step.mode,
      turns: step.turns,
      tokenEndpoint: `${broker.url}/api/avatar/session`,
      // A turn takes one loop of the question, or two when its reply ends too late for the next.
      maxMs: (2 * step.turns + 2) * LOOP_MS,
      loopMs: LOOP_MS,
      question: QUESTION,
      expectedReply: REPLY,
    });
    // The LLM stand-in's calls during the block (blocks run one after another).
    block.llmCalls = world.llm.calls.filter((c) => c.at >= from && c.at <= Date.now());
    blocks.push(block);
    const clean = block.records.filter((r) => r.clean).length;
    log(`block ${i + 1}/${plan.length} ${step.mode.padEnd(10)} session ${block.sessionId.slice(0, 8)}: ${clean} clean turns of ${block.records.length} ` +
      `in ${((performance.now() - started) / 1000).toFixed(0)} s (start ${(block.startMs / 1000).toFixed(1)} s; page clock − Date.now() ${(-block.clockOffset).toFixed(2)} ms)` +
      `${block.audioAttached && block.audioPlaying ? '' : ' — avatar audio NOT playing in the element'}${block.errors.length ? `; ${block.errors.length} error events` : ''}; load ${os.loadavg()[0].toFixed(2)}`);
  }
  log();

  // Join the page's records with what reached the HeyGen stand-in.
  const tasks = world.heygen.tasks;
  const turns = [];
  const skipped = [];
  let warmup = true;
  for (const block of blocks) {
    const toServerClock = (t) => t + block.clockOffset;
    for (const rec of block.records) {
      const task =
        rec.firstSentence === undefined
          ? undefined
          : tasks.find((t) => t.sessionId === block.sessionId && t.receivedAt >= toServerClock(rec.turnAt) - 1 && t.text === rec.firstSentence);
      if (rec.clean && !task) Object.assign(rec, { clean: false, why: 'its first sentence never reached the HeyGen stand-in' });
      // The LLM call the reply came from: the last one that ran to its end before the task.
      const call = task && block.llmCalls.filter((c) => c.status === 'completed' && c.at <= task.receivedAt).at(-1);
      // The first avatar audio after the task left (sound before it would be a previous reply's).
      const onsets = rec.clean ? rec.avatarOnsets.map(toServerClock) : [];
      if (rec.clean && onsets.some((t) => t > toServerClock(rec.eos) && t < task.receivedAt)) {
        Object.assign(rec, { clean: false, why: 'avatar audio between the end of speech and the task' });
      }
      if (!rec.clean) {
        skipped.push(rec);
        continue;
      }
      if (warmup) {
        warmup = false;
        Object.assign(rec, { why: 'warm-up (the run’s first turn)' });
        skipped.push(rec);
        continue;
      }
      turns.push({
        mode: block.mode,
        eosToTurn: rec.turnAt - rec.eos,
        eosToCall: (call?.at ?? NaN) - toServerClock(rec.eos),
        turnToDelta: rec.firstDeltaAt - rec.turnAt,
        turnToSentence: rec.sentenceAt - rec.turnAt,
        sentenceToTask: task.receivedAt - toServerClock(rec.sentenceAt),
        sentenceToFetch: rec.taskFetchAt - rec.sentenceAt,
        fetchToTask: task.receivedAt - toServerClock(rec.taskFetchAt),
        taskToTalking: toServerClock(rec.talkingAt) - task.receivedAt,
        eosToAudio: (onsets.find((t) => t >= task.receivedAt) ?? NaN) - toServerClock(rec.eos),
        eosToTask: task.receivedAt - toServerClock(rec.eos),
        turnToTask: task.receivedAt - toServerClock(rec.turnAt),
        generationAfterSentence: rec.lastDeltaAt - rec.sentenceAt,
        speechMs: rec.eos - rec.speechStart,
        metrics: rec.metrics,
      });
    }
  }

  const COLUMNS = ['eos→turn', 'eos→LLM', 'turn→Δ', 'turn→sent', 'sent→task', 'sent→fetch', 'fetch→task', 'task→talk', 'eos→audio', 'eos→task', 'turn→task', 'gen 1st→end'];
  log('per turn (ms)');
  log(`  #  config     ${COLUMNS.map((s) => s.padStart(11)).join('')}`);
  for (const mode of MODES) {
    turns
      .filter((t) => t.mode === mode)
      .forEach((t, i) => {
        log(`${String(i + 1).padStart(3)}  ${mode.padEnd(10)} ${[...FIGURES.map(([key]) => fmt(t[key], 11, DECIMALS.has(key) ? 1 : 0)), mode === 'streamed' ? fmt(t.generationAfterSentence, 11) : '-'.padStart(11)].join('')}`);
      });
  }
  log();
  if (skipped.length) {
    log(`turns not counted (${skipped.length}):`);
    const reasons = new Map();
    for (const r of skipped) {
      const key = `${r.mode}: ${r.why}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    for (const [reason, n] of reasons) log(`  ${n} × ${reason}`);
    log();
  }

  const of = (mode) => turns.filter((t) => t.mode === mode);
  const n = Object.fromEntries(MODES.map((mode) => [mode, of(mode).length]));
  const stat = (mode, key, p) => percentile(of(mode).map((t) => t[key]), p);
  log(`summary (ms)${' '.repeat(48)}${MODES.map((mode) => `${mode} (n=${n[mode]})`.padEnd(19)).join('')}`);
  log(`${' '.repeat(60)}${MODES.map(() => '     p50     p95   ').join('')}`);
  for (const [key, label] of FIGURES) {
    const digits = DECIMALS.has(key) ? 1 : 0;
    log(`${label.padEnd(60)}${MODES.map((mode) => `${fmt(stat(mode, key, 0.5), 8, digits)}${fmt(stat(mode, key, 0.95), 8, digits)}   `).join('')}`);
  }
  log();

  // LLM calls per turn, from the stand-in's log: a cancelled speculation is a call the browser
  // went away from (`disconnected`); the page's metrics events count the cancellations too.
  log('LLM calls (all turns of each configuration, warm-up and uncounted ones included)');
  for (const mode of MODES) {
    const mine = blocks.filter((b) => b.mode === mode);
    const turnCount = mine.reduce((sum, b) => sum + b.records.length, 0);
    const calls = mine.flatMap((b) => b.llmCalls);
    const disconnected = calls.filter((c) => c.status === 'disconnected').length;
    const cancelled = mine.flatMap((b) => b.metrics).reduce((sum, m) => sum + m.cancelledSpeculativeCalls, 0);
    const preemptive = mine.flatMap((b) => b.metrics).filter((m) => m.preemptive).length;
    log(`  ${mode.padEnd(10)} ${turnCount} turns, ${calls.length} calls (${(calls.length / turnCount).toFixed(2)} per turn), ${disconnected} cut off by the browser; ` +
      `speculative calls cancelled (metrics events): ${cancelled} (${(cancelled / turnCount).toFixed(2)} per turn, ${calls.length ? ((100 * cancelled) / calls.length).toFixed(0) : 0} % of calls); preemptive replies: ${preemptive}`);
  }
  log();

  // The element's own heygen-avatar:metrics beside what the benchmark measured for the same turns.
  const METRICS = [
    ['speechEndToTurn', 'eosToTurn', 'end of speech → turn'],
    ['turnToFirstChunk', 'turnToDelta', 'turn → first chunk (bench: first reply-delta)'],
    ['sentenceToTask', 'sentenceToTask', 'sentence → task accepted (bench: on the wire)'],
    ['taskToTalking', 'taskToTalking', 'task → talking (bench: from the wire)'],
    ['speechEndToTalking', null, 'end of speech → talking'],
  ];
  log(`heygen-avatar:metrics p50, beside the benchmark's own p50 (ms)${' '.repeat(1)}${MODES.map((mode) => mode.padStart(20)).join('')}`);
  for (const [key, bench, label] of METRICS) {
    const cell = (mode) => {
      const event = percentile(of(mode).map((t) => t.metrics?.[key] ?? NaN), 0.5);
      return `${fmt(event, 7)}${bench ? ` (${fmt(stat(mode, bench, 0.5), 0)})` : ''}`.padStart(20);
    };
    log(`  ${label.padEnd(60)}${MODES.map(cell).join('')}`);
  }
  log();

  const gain = (key, p, from = 'baseline', to = 'streamed') => stat(from, key, p) - stat(to, key, p);
  const signed = (ms) => `${ms >= 0 ? '+' : '−'}${Math.abs(ms).toFixed(0)}`;
  const observedGeneration = stat('streamed', 'generationAfterSentence', 0.5);
  const added95 = stat('streamed', 'sentenceToTask', 0.95);
  log('headline: end of speech → first task request');
  log(`  ${MODES.map((mode) => `${mode} p50 ${fmt(stat(mode, 'eosToTask', 0.5), 0)} ms, p95 ${fmt(stat(mode, 'eosToTask', 0.95), 0)} ms`).join('; ')}`);
  log(`  streamed is sooner than baseline by ${fmt(gain('eosToTask', 0.5), 0)} ms at p50, ${fmt(gain('eosToTask', 0.95), 0)} ms at p95; ` +
    `baseline / streamed = ${(stat('baseline', 'eosToTask', 0.5) / stat('streamed', 'eosToTask', 0.5)).toFixed(2)} at p50`);
  log(`  preemptive is sooner than streamed by ${fmt(gain('eosToTask', 0.5, 'streamed', 'preemptive'), 0)} ms at p50, ${fmt(gain('eosToTask', 0.95, 'streamed', 'preemptive'), 0)} ms at p95`);
  log(`  from the turn event on (no STT jitter): streamed sooner than baseline by ${fmt(gain('turnToTask', 0.5), 0)} ms at p50, ${fmt(gain('turnToTask', 0.95), 0)} ms at p95`);
  log(`  LLM generation after the first sentence: ${generation.ms.toFixed(0)} ms on the stand-in's clock ` +
    `(${generation.tokens - generation.firstSentenceTokens} tokens at ${LLM_CLOCK.tokensPerSecond}/s); seen in the page ${fmt(observedGeneration, 0)} ms p50 (last reply-delta − first sentence)`);
  for (const [key, label] of [['eosToTask', 'end of speech → task'], ['turnToTask', 'turn → task']]) {
    const margin = gain(key, 0.5) - generation.ms;
    log(`  streamed beats the baseline by at least that (${label}, p50): ${margin >= 0 ? 'yes' : 'NO'} (${signed(margin)} ms)`);
  }
  const firstSentence = stat('streamed', 'turnToSentence', 0.5);
  const preemptiveTask = stat('preemptive', 'eosToTask', 0.5);
  log(`target: preemptive end of speech → first task p50 ≤ the LLM's first-sentence time (streamed turn → first sentence, p50) + ${TARGET_PREEMPTIVE_MS} ms: ` +
    `${preemptiveTask <= firstSentence + TARGET_PREEMPTIVE_MS ? 'holds' : 'MISSED'} (${fmt(preemptiveTask, 0)} ms against ${fmt(firstSentence, 0)} + ${TARGET_PREEMPTIVE_MS} = ${fmt(firstSentence + TARGET_PREEMPTIVE_MS, 0)} ms)`);
  log(`target: time we add between sentence complete and task request ≤ ${TARGET_ADDED_MS} ms p95: ` +
    `${added95 <= TARGET_ADDED_MS ? 'holds' : 'MISSED'} (streamed p95 ${fmt(added95, 0, 1)} ms, p50 ${fmt(stat('streamed', 'sentenceToTask', 0.5), 0, 1)} ms)`);
  const speech = turns.map((t) => t.speechMs);
  log(`speech detector check: the question's utterance measured ${fmt(percentile(speech, 0.5), 0)} ms p50 (${fmt(Math.min(...speech), 0)}–${fmt(Math.max(...speech), 0)}) from first to last loud 20 ms frame`);
  if (MODES.some((mode) => n[mode] < TURNS)) log(`note: fewer counted turns than the ${TURNS} asked for (${MODES.map((mode) => `${mode} ${n[mode]}`).join(', ')})`);
  const errors = blocks.flatMap((b) => b.errors.map((e) => `${b.mode}: ${e.type}: ${e.message}`));
  if (errors.length) log(`error events from the element (${errors.length}): ${[...new Set(errors)].slice(0, 5).join(' | ')}`);
  if (pageProblems.length) log(`page console warnings/errors (${pageProblems.length}): ${[...new Set(pageProblems)].slice(0, 5).join(' | ')}`);
  const lag = (ns) => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS).toFixed(0);
  log(`event-loop lag of this process (stand-ins, broker, synthetic avatar painting 25 fps): p50 ${lag(loopDelay.percentile(50))} ms, ` +
    `p99 ${lag(loopDelay.percentile(99))} ms, max ${lag(loopDelay.max)} ms`);
  log(`machine load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; run took ${elapsed()}`);
  if (MODES.some((mode) => n[mode] === 0)) throw new Error('no clean turns for one configuration: nothing to compare');
} catch (err) {
  failed = true;
  console.error(`bench-latency failed: ${err?.stack ?? err}`);
} finally {
  await browser?.close().catch(() => undefined);
  await broker?.close().catch(() => undefined);
  await world?.close().catch(() => undefined);
  await pageServer.close();
}
process.exit(failed ? 1 : 0);
