// Driving a session broker in tests (test/unit/broker*.test.ts): requests as a page on ORIGIN
// sends them, every answer kept for the closing secret scan, brokers (in process or the CLI) and
// fake upstream servers on loopback that the file's `after` hook stops (`runCleanups`).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { configFromEnv, RedisStore, startBrokerServer, type BrokerConfig, type BrokerServer, type BrokerSessionResponse, type LogEntry } from '../../src/broker/index.js';
import { freeTcpPort } from '../../scripts/livekit.mjs';

/** The page origin the test brokers allow. */
export const ORIGIN = 'https://shop.example';

/** One answer the broker sent. */
export interface Seen {
  what: string;
  status: number;
  headers: [string, string][];
  body: string;
}

/** Every answer `call` received (and any a test adds): the secret scan reads them all. */
export const seen: Seen[] = [];

/** Stopped in reverse order by `runCleanups`. */
export const cleanups: (() => Promise<unknown>)[] = [];

export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** `fetch`, with the answer read, parsed when JSON, and kept in `seen`. */
export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  seen.push({ what: `${init.method ?? 'GET'} ${url}`, status: res.status, headers: [...res.headers], body: text });
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A JSON POST from ORIGIN; `client` is the address the brokers read from `x-test-client` (`trustProxy`). */
export const json = (body: unknown, headers: Record<string, string> = {}, client = 'c-default'): RequestInit => ({
  method: 'POST',
  headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-test-client': client, ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

export const auth = (s: BrokerSessionResponse, extra: Record<string, string> = {}) => ({ origin: ORIGIN, authorization: `Bearer ${s.sessionKey}`, ...extra });

export function assertError(a: Answer, status: number, code: string, message?: RegExp): void {
  assert.equal(a.status, status, a.text);
  assert.equal(a.json?.error?.code, code, a.text);
  assert.equal(typeof a.json.error.message, 'string');
  if (message) assert.match(a.json.error.message, message);
}

/**
 * What every test broker's configuration shares: pages from ORIGIN, the client address from
 * `x-test-client`, caps and rate limits out of the way (tests that check them set their own), no
 * reaper timer (tests call `reapNow()` or set one), English and Russian, log entries into `logs`.
 */
export function testBrokerDefaults(logs: LogEntry[]): Omit<BrokerConfig, 'deepgram'> {
  return {
    languages: ['en', 'ru'],
    allowedOrigins: [ORIGIN],
    trustProxy: 'x-test-client',
    maxSessions: 50,
    maxSessionsPerClient: 50,
    rateLimits: { session: { perMinute: 6000, burst: 1000 }, llm: { perMinute: 6000, burst: 1000 }, sttToken: { perMinute: 6000, burst: 1000 } },
    reapIntervalMs: 0,
    logger: (e) => logs.push(e),
  };
}

/** The configuration problems `configFromEnv(env)` reports, one message; '' when there are none. */
export function configProblems(env: Record<string, string>): string {
  try {
    configFromEnv(env);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

/** A broker on loopback (port 0), stopped by `runCleanups`; `api` is its base path's URL. */
export async function startBroker(config: BrokerConfig): Promise<BrokerServer & { api: string }> {
  const server = await startBrokerServer(config, { port: 0 });
  cleanups.push(() => server.close());
  return Object.assign(server, { api: `${server.url}${config.basePath ?? '/api/avatar'}` });
}

/** `POST /session`, which must answer 200; `R` is the answer of the broker's avatar service. */
export async function createSession<R extends BrokerSessionResponse = BrokerSessionResponse>(api: string, body: unknown = {}, client = 'c-default'): Promise<R> {
  const a = await call(`${api}/session`, json(body, {}, client));
  assert.equal(a.status, 200, a.text);
  return a.json as R;
}

/** `POST closeUrl` the way the widget's sendBeacon does (or as `type`). */
export async function closeSession(s: BrokerSessionResponse, type = 'text/plain'): Promise<Answer> {
  return call(s.closeUrl, { method: 'POST', headers: { origin: ORIGIN, 'content-type': type }, body: JSON.stringify({ sessionId: s.sessionId, sessionKey: s.sessionKey }) });
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * Drives the reaper on a test clock through a session's ten failed stops (the service is armed to
 * fail them): silent past `abandonAfterSeconds`, then a pass every 20 s, past each stop's lease.
 * After it the broker has dropped the session's record (`session_stop_gave_up`).
 */
export async function reapThroughTenFailedStops(reapNow: () => Promise<number>, advance: (ms: number) => void, abandonAfterSeconds: number): Promise<void> {
  advance(abandonAfterSeconds * 1000 + 1000);
  for (let i = 0; i < 10; i++) {
    await reapNow();
    advance(20_000);
  }
}

/**
 * The environment of a broker CLI that owns its avatar account (`AVATAR_ACCOUNT=dedicated`) and
 * reaps fast: what the kill -9 tests start, beside the service's and Deepgram's keys and bases.
 */
export const DEDICATED_FAST_REAPING_CLI = {
  ALLOWED_ORIGINS: ORIGIN,
  TRUST_PROXY: 'x-test-client',
  AVATAR_ACCOUNT: 'dedicated',
  REAP_INTERVAL_SECONDS: '0.2',
  UPSTREAM_TIMEOUT_MS: '500',
  PORT: '0',
};

/** kill -9 of a broker CLI, then the same CLI started again (same `env`). */
export async function killAndRestartCli(cli: BrokerCli, env: Record<string, string>): Promise<BrokerCli> {
  cli.proc.kill('SIGKILL');
  await cli.exited;
  return startCli(env);
}

/** A redis-server of a test (see startRedis). */
export interface TestRedis {
  /** `redis://[:password@]127.0.0.1:port` */
  url: string;
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port, empty (no persistence), as a crashed Redis comes back. */
  restart(): Promise<void>;
}

/**
 * A redis-server on a free loopback port, without persistence (`--save '' --appendonly no`),
 * answering PING when this resolves; stopped by `runCleanups`.
 */
export async function startRedis(options: { password?: string } = {}): Promise<TestRedis> {
  const port: number = await freeTcpPort();
  const auth = options.password === undefined ? [] : ['--requirepass', options.password];
  const url = `redis://${options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`}127.0.0.1:${port}`;
  let proc: ChildProcess;
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  };
  const start = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...auth], { stdio: 'ignore' });
    const probe = new RedisStore({ url });
    await waitFor('redis-server to answer', async () => probe.ping().then(() => true, () => false), 5000);
    await probe.close();
  };
  await start();
  cleanups.push(stop);
  return {
    url,
    stop,
    async restart() {
      await stop();
      await start();
    },
  };
}

/** One request a fake upstream received. */
export interface Recorded {
  method: string;
  path: string;
  /** The query string, `?…` or empty. */
  search: string;
  headers: IncomingMessage['headers'];
  body: any;
}

/**
 * An HTTP server on loopback that records every request (its JSON body parsed) and lets `answer`
 * reply; stopped by `runCleanups`.
 */
export async function recordingServer(answer: (call: Recorded, res: ServerResponse) => unknown): Promise<{ url: string; calls: Recorded[] }> {
  const calls: Recorded[] = [];
  const server: Server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const url = new URL(req.url ?? '/', 'http://x');
    const recorded: Recorded = { method: req.method ?? 'GET', path: url.pathname, search: url.search, headers: req.headers, body: text ? JSON.parse(text) : undefined };
    calls.push(recorded);
    await answer(recorded, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

/**
 * The closing check of a broker test file: no key of `keys`, nor its last 12 characters, is in any
 * answer in `seen` (body or headers) or in any log line.
 */
export function assertKeysNeverSent(keys: Record<string, string>, logs: readonly LogEntry[]): void {
  for (const r of seen) {
    const text = `${r.body}\n${r.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}`;
    for (const [name, key] of Object.entries(keys)) {
      assert.ok(!text.includes(key), `the ${name} key leaked in ${r.what} (HTTP ${r.status})`);
      assert.ok(!text.includes(key.slice(-12)), `a part of the ${name} key leaked in ${r.what}`);
    }
  }
  const logText = JSON.stringify(logs);
  for (const [name, key] of Object.entries(keys)) assert.ok(!logText.includes(key.slice(-12)), `the ${name} key is in a log line`);
}

/** A broker CLI process (`src/broker/cli.ts`). */
export interface BrokerCli {
  proc: ChildProcess;
  url: string;
  api: string;
  /** Its `broker_started` line. */
  startup: Record<string, unknown>;
  output: string[];
  exited: Promise<number | null>;
}

/** Runs the broker CLI with exactly `env` (and PATH) until it exits by itself (a configuration error): its exit code and output. */
export async function runCliToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const proc = spawnCli(env);
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((r) => proc.once('exit', r));
  return { code, output };
}

function spawnCli(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../src/broker/cli.ts', import.meta.url))], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts the broker CLI with exactly `env` (and PATH); resolves on its `broker_started` line. */
export async function startCli(env: Record<string, string>): Promise<BrokerCli> {
  const proc = spawnCli(env);
  const output: string[] = [];
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const startup = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`broker CLI did not start:\n${output.join('')}`)), 15_000);
    proc.stderr!.on('data', (d) => output.push(String(d)));
    proc.stdout!.on('data', (d) => {
      output.push(String(d));
      buffer += String(d);
      for (const line of buffer.split('\n')) {
        if (!line.includes('"broker_started"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    proc.once('exit', (code) => reject(new Error(`broker CLI exited (${code}):\n${output.join('')}`)));
  });
  cleanups.push(async () => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  const url = String(startup.url);
  return { proc, url, api: `${url}/api/avatar`, startup, output, exited };
}
