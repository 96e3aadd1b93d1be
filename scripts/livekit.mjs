#!/usr/bin/env node
// Installs and runs the open-source LiveKit server (a Go module) for tests, benchmarks and `npm start`.
//
//   node scripts/livekit.mjs install   # go install at the pinned version into the cache, if missing
//   node scripts/livekit.mjs path      # print the binary's path
//   node scripts/livekit.mjs run       # start on loopback with generated keys, print URL/keys, run until Ctrl-C
//
// Programmatic: `const lk = await startLiveKit(); … lk.url, lk.apiKey, lk.apiSecret … await lk.stop()`.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pinned release. Its go.mod has no `replace`, so `go install module@version` works as is. */
export const LIVEKIT_VERSION = 'v1.9.11';
const MODULE = 'github.com/livekit/livekit-server/cmd/server';

/** Where the binary lives: $HEYGEN_AVATAR_CACHE or ~/.cache/heygen-avatar, one folder per version. */
export function livekitBinaryPath() {
  const cache = process.env.HEYGEN_AVATAR_CACHE || join(homedir(), '.cache', 'heygen-avatar');
  return join(cache, 'livekit', LIVEKIT_VERSION, 'server');
}

/** Installs the pinned LiveKit server with `go install` unless it is already cached. Returns its path. */
export function installLiveKit({ quiet = false } = {}) {
  const bin = livekitBinaryPath();
  if (existsSync(bin)) return bin;
  if (spawnSync('go', ['version']).status !== 0) {
    throw new Error('heygen-avatar: the Go toolchain is needed to install the LiveKit server (`go` not found on PATH)');
  }
  const gobin = join(bin, '..');
  mkdirSync(gobin, { recursive: true });
  if (!quiet) console.log(`installing LiveKit server ${LIVEKIT_VERSION} into ${gobin} …`);
  const r = spawnSync('go', ['install', `${MODULE}@${LIVEKIT_VERSION}`], {
    env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' },
    stdio: quiet ? 'pipe' : 'inherit',
  });
  if (r.status !== 0 || !existsSync(bin)) {
    throw new Error(`heygen-avatar: go install ${MODULE}@${LIVEKIT_VERSION} failed (exit ${r.status})\n${r.stderr ?? ''}`);
  }
  return bin;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

/**
 * Starts a LiveKit server in dev mode, bound to loopback, with freshly generated keys,
 * and resolves once it answers HTTP. `stop()` ends it and waits for the exit.
 * @param {{ port?: number, logFile?: string, timeoutMs?: number }} [options]
 */
export async function startLiveKit(options = {}) {
  const bin = installLiveKit({ quiet: true });
  const port = options.port ?? (await freeTcpPort());
  const tcpPort = await freeTcpPort();
  const udpPort = await freeUdpPort();
  const apiKey = `API${randomBytes(6).toString('hex')}`;
  const apiSecret = randomBytes(24).toString('base64url');
  const config = [
    `port: ${port}`,
    'rtc:',
    `  tcp_port: ${tcpPort}`,
    `  udp_port: ${udpPort}`,
    '  use_external_ip: false',
    '  node_ip: 127.0.0.1',
    'keys:',
    `  ${apiKey}: ${apiSecret}`,
    'logging:',
    '  level: info',
  ].join('\n');
  const logFile = options.logFile ?? join(tmpdir(), `heygen-avatar-livekit-${port}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(bin, ['--dev', '--bind', '127.0.0.1', '--config-body', config], {
    stdio: ['ignore', out, out],
  });
  let exited = null;
  // The server must not outlive the process that started it (a test runner that exits, Ctrl-C).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      resolve((exited = { code, signal }));
    }),
  );

  const httpUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (exited) throw new Error(`heygen-avatar: LiveKit server exited during start (${JSON.stringify(exited)}); log: ${logFile}`);
    try {
      const res = await fetch(httpUrl, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`heygen-avatar: LiveKit server did not answer on ${httpUrl} within the timeout; log: ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url: `ws://127.0.0.1:${port}`,
    httpUrl,
    apiKey,
    apiSecret,
    logFile,
    pid: child.pid,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(timer);
      }
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const cmd = process.argv[2] ?? 'install';
  if (cmd === 'install') {
    console.log(installLiveKit());
  } else if (cmd === 'path') {
    console.log(livekitBinaryPath());
  } else if (cmd === 'run') {
    const lk = await startLiveKit();
    console.log(`LiveKit ${LIVEKIT_VERSION} on ${lk.url}\nLIVEKIT_API_KEY=${lk.apiKey}\nLIVEKIT_API_SECRET=${lk.apiSecret}\nlog: ${lk.logFile}`);
    const end = () => lk.stop().then(() => process.exit(0));
    process.on('SIGINT', end);
    process.on('SIGTERM', end);
  } else {
    console.error('usage: node scripts/livekit.mjs install|path|run');
    process.exit(2);
  }
}
