// The broker's container (Dockerfile, compose.yaml), tested without Docker (there is no Docker
// daemon, nor any registry for its base images, on our machines): the image's files and settings
// are read from the Dockerfile, and the compose topology is run as processes with the image's own
// entrypoint and health check: Redis with its append-only file, two brokers as a user that is not
// root, sharing it, behind nginx with the compose file's nginx.conf on one port. The conformance
// kit passes through that port, both instances answer, and one instance gone changes nothing.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { formatResult, runConformance, startKitWorld, worldEnvironment, type WorldView } from '../../src/conformance/index.js';
import { EndpointClient } from '../../src/conformance/client.js';
import type { SessionResponse } from '../../src/shared/contract.js';
import { DEFAULT_AVATARS } from '../../src/offline/liveavatar/protocol.js';
import type { OfflineWorld } from '../../src/offline/world.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ORIGIN = 'http://127.0.0.1:18790';
const PORTS = { redis: 18960, broker1: 18961, broker2: 18962, lb: 18963 };
/** The user the image runs as is `node`; here, any user that is not root. */
const NOBODY = 65534;

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const compose = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');
const nginxConf = readFileSync(join(ROOT, 'docker/nginx.conf'), 'utf8');
/** The Dockerfile's final stage: what the image is. */
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

let dir: string;
let broker1: ChildProcess;
let world: OfflineWorld;
let view: WorldView;
const procs: ChildProcess[] = [];
const output = new Map<ChildProcess, string>();

function start(cmd: string, args: string[], env: Record<string, string>, uid?: number): ChildProcess {
  const proc = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, ...(uid ? { uid, gid: uid } : {}) });
  output.set(proc, '');
  proc.stdout!.on('data', (d) => output.set(proc, output.get(proc) + String(d)));
  proc.stderr!.on('data', (d) => output.set(proc, output.get(proc) + String(d)));
  procs.push(proc);
  return proc;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The image's HEALTHCHECK command, run against the broker on `port`. */
function healthcheck(port: number): number | null {
  const [, cmd] = runtime.match(/HEALTHCHECK [^\n]*CMD (\[.*\])/)!;
  const [bin, ...args] = JSON.parse(cmd) as string[];
  return spawnSync(bin, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: 'ignore' }).status;
}

/** The broker instances as compose starts them: the image's entrypoint, the compose environment, the env file's settings. */
function startBroker(port: number): ChildProcess {
  const entrypoint = JSON.parse(runtime.match(/ENTRYPOINT (\[.*\])/)![1]) as string[];
  const env = {
    ...worldEnvironment(view.urls),
    ...Object.fromEntries([...compose.matchAll(/^ {6}(REDIS_URL|TRUST_PROXY|HOST): "?([^"\n]+)"?$/gm)].map((m) => [m[1], m[2]])),
    REDIS_URL: `redis://127.0.0.1:${PORTS.redis}`,
    HOST: '127.0.0.1',
    AVATAR_PROVIDER: 'liveavatar',
    AVATAR_IDS: DEFAULT_AVATARS.find((a) => a.name === 'Judy')!.id,
    ALLOWED_ORIGINS: ORIGIN,
    RATE_LIMIT_SESSIONS_PER_MINUTE: '60',
    RATE_LIMIT_SESSIONS_BURST: '20',
    PORT: String(port),
    NODE_ENV: 'production',
  };
  return start(entrypoint[0] === 'node' ? process.execPath : entrypoint[0], entrypoint.slice(1), env, NOBODY);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'heygen-avatar-container-'));
  chmodSync(dir, 0o777);
  ({ world, view } = await startKitWorld(18801));
  // Redis as compose runs it: its command line, its data on a folder of its own.
  const redisArgs = JSON.parse(compose.match(/command: (\[.*"redis-server".*\])/)![1]) as string[];
  start('redis-server', [...redisArgs.slice(1), '--port', String(PORTS.redis), '--bind', '127.0.0.1', '--dir', dir], {});
  await until('Redis', () => spawnSync('redis-cli', ['-p', String(PORTS.redis), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG');
  broker1 = startBroker(PORTS.broker1);
  startBroker(PORTS.broker2);
  // nginx with the compose file's server block, the service names resolved to the two processes.
  const server = nginxConf.replace('broker-1:8787', `127.0.0.1:${PORTS.broker1}`).replace('broker-2:8787', `127.0.0.1:${PORTS.broker2}`).replace('listen 8787;', `listen 127.0.0.1:${PORTS.lb};`);
  writeFileSync(join(dir, 'server.conf'), server);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/nginx-error.log warn;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  include ${dir}/server.conf;\n}\n`,
  );
  start('nginx', ['-c', join(dir, 'nginx.conf')], {});
  await until('both brokers healthy', () => healthcheck(PORTS.broker1) === 0 && healthcheck(PORTS.broker2) === 0);
  await until('the load balancer', async () => (await fetch(`http://127.0.0.1:${PORTS.lb}/api/avatar/healthz`).catch(() => undefined))?.ok === true);
});

after(async () => {
  for (const p of procs.reverse()) if (p.exitCode === null) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : undefined)));
  await world?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the broker container (without Docker: its entrypoint, health check and compose topology as processes)', { timeout: 180_000 }, () => {
  it('the image: a small base, the broker built, not root, a health check on /healthz', () => {
    assert.match(runtime, /^\nFROM node:20-alpine\n/);
    const user = runtime.indexOf('\nUSER node\n');
    assert.ok(user > 0 && user < runtime.indexOf('\nENTRYPOINT '), 'USER node before the entrypoint');
    assert.match(runtime, /HEALTHCHECK [^\n]*CMD \["node", "docker\/healthcheck.mjs"\]/);
    assert.match(readFileSync(join(ROOT, 'docker/healthcheck.mjs'), 'utf8'), /\/healthz/);
    // Every file the runtime stage copies out of the build exists after `npm run build`.
    for (const [, path] of runtime.matchAll(/COPY --from=build \S+ \/app\/(\S+)/g)) assert.ok(existsSync(join(ROOT, path)), `${path} after the build`);
    assert.ok(existsSync(join(ROOT, 'dist/node/broker/cli.js')));
  });

  it('the health check: 0 while a broker and its Redis answer, 1 when the broker is gone', () => {
    assert.equal(healthcheck(PORTS.broker1), 0);
    assert.equal(healthcheck(18999), 1);
  });

  it('the conformance kit passes through the load balancer, and both instances serve sessions', async () => {
    const results = await runConformance({ endpoint: `http://127.0.0.1:${PORTS.lb}/api/avatar/session`, origin: ORIGIN, world: view });
    assert.deepEqual(results.filter((r) => r.status !== 'passed').map((r) => r.id), [], results.map(formatResult).join('\n'));
    const created = procs.filter((p) => p.spawnargs.some((a) => a.endsWith('heygen-avatar-broker.mjs'))).map((p) => (output.get(p)!.match(/"event":"session_created"/g) ?? []).length);
    assert.ok(created.every((n) => n > 0), `sessions per instance: ${created}`);
    // Redis keeps its append-only file on its volume.
    assert.ok(readdirSync(join(dir, 'appendonlydir')).some((f) => f.endsWith('.aof')));
  });

  it('one instance stopped: a session it made is closed through the other (the records are in Redis)', async () => {
    // Two sessions through the balancer (one from each instance): the kit's client waits out the rate limit it spent.
    const client = new EndpointClient(`http://127.0.0.1:${PORTS.lb}/api/avatar/session`, ORIGIN);
    const made: SessionResponse[] = [await client.createSession(), await client.createSession()];
    broker1.kill('SIGTERM');
    await new Promise((r) => broker1.once('exit', r));
    assert.equal(healthcheck(PORTS.broker1), 1);
    for (const s of made) {
      assert.equal(await view.isOpen('liveavatar', s.sessionId), true, 'with Redis, an instance that stops leaves its sessions to the others');
      const closed = await fetch(s.closeUrl, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'text/plain' }, body: JSON.stringify({ sessionId: s.sessionId, sessionKey: s.sessionKey }) });
      assert.equal(closed.status, 200);
      await until('the session stopped', async () => !(await view.isOpen('liveavatar', s.sessionId)));
    }
  });
});
