#!/usr/bin/env node
// `npm start`: the demo, for real or offline.
//   With DEEPGRAM_API_KEY and an avatar key (LIVEAVATAR_API_KEY, or HEYGEN_API_KEY for HeyGen's
//   older streaming API) set: the session broker against the real services (LIVEAVATAR_SANDBOX=1
//   for LiveAvatar's free sandbox avatar).
//   Without them: a local LiveKit server, the LiveAvatar/HeyGen/Deepgram/LLM stand-ins, and the
//   broker pointed at them — no network, no credits. `--provider liveavatar|heygen-streaming`
//   picks the avatar service offline (default liveavatar: what people who sign up today get);
//   `--phrases LANG=FILE` (repeatable) adds the file's lines to what offline recognition knows.
// Serves the demo pages and the built widget beside the broker on one origin (default
// http://127.0.0.1:8080). `--no-build` skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import serveStatic from 'serve-static';

const root = fileURLToPath(new URL('..', import.meta.url));
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const origin = `http://${host}:${port}`;

if (!process.argv.includes('--no-build') || !existsSync(join(root, 'dist/node/broker/index.js'))) {
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const { configFromEnv, createSessionBroker, createNodeListener, resolveConfig, BrokerConfigError } = await import('../dist/node/broker/index.js');

const PROVIDERS = ['liveavatar', 'heygen-streaming'];
const flag = process.argv.indexOf('--provider');
const offlineProvider = flag > 0 ? process.argv[flag + 1] : 'liveavatar';
if (!PROVIDERS.includes(offlineProvider)) {
  console.error(`--provider must be ${PROVIDERS.join(' or ')}, got ${offlineProvider}`);
  process.exit(2);
}
const env = process.env;
const live = Boolean((env.LIVEAVATAR_API_KEY || env.HEYGEN_API_KEY) && env.DEEPGRAM_API_KEY);
let world;
let config;
if (live) {
  try {
    // The demo page names no avatar: the broker's first allowed one is used (AVATAR_IDS; with
    // LiveAvatar's sandbox, its one avatar).
    const defaults = env.LIVEAVATAR_API_KEY ? {} : { AVATAR_IDS: 'Anna_public_3' };
    ({ config } = configFromEnv({ ...defaults, ALLOWED_ORIGINS: origin, ...env }));
  } catch (err) {
    if (err instanceof BrokerConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
} else {
  const { startOfflineWorld, SANDBOX_AVATAR_ID, extraPhrasesFrom } = await import('../dist/node/offline/index.js');
  world = await startOfflineWorld({ host, deepgram: { extraPhrases: extraPhrasesFrom(process.argv.slice(2)) } });
  config = {
    ...(offlineProvider === 'liveavatar'
      ? { liveavatar: { apiKey: world.keys.liveavatar, apiBase: world.liveavatar.url }, avatarIds: [SANDBOX_AVATAR_ID] }
      : { heygen: { apiKey: world.keys.heygen, apiBase: world.heygen.url }, avatarIds: ['Anna_public_3', 'offline_avatar'] }),
    deepgram: { apiKey: world.keys.deepgram, apiBase: world.deepgram.url },
    llm: { provider: 'gemini', apiKey: world.keys.gemini, apiBase: world.llm.url, systemPrompt: 'You are the demo avatar. Answer in two or three short sentences.' },
    allowedOrigins: [origin],
    logLevel: 'warn',
  };
}

const broker = createSessionBroker(config);
const api = createNodeListener(broker);
// Only dist/ (under /dist/) and demo/ (everything else) are served, read on each request (a rebuild
// shows at once); dotfiles are not served, and nothing outside the two folders.
const fileOptions = { dotfiles: 'ignore', redirect: false, cacheControl: false, setHeaders: (res) => res.setHeader('cache-control', 'no-cache') };
const files = { dist: serveStatic(join(root, 'dist'), fileOptions), demo: serveStatic(join(root, 'demo'), fileOptions) };
const notFound = (res) => res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path.startsWith('/api/avatar/')) return void api(req, res);
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
  if (path.startsWith('/dist/')) {
    req.url = req.url.slice('/dist'.length);
    return void files.dist(req, res, () => notFound(res));
  }
  files.demo(req, res, () => notFound(res));
});

server.listen(port, host, () => {
  const resolved = resolveConfig(config);
  const service = resolved.liveavatar
    ? `LiveAvatar (${resolved.liveavatar.apiBase}${resolved.liveavatar.sandbox ? ', sandbox: free, about a minute per session' : ''})`
    : `HeyGen streaming (${resolved.heygen?.apiBase})`;
  const mode = live
    ? `LIVE mode: the broker talks to ${service} and Deepgram with your keys${resolved.liveavatar?.sandbox ? '' : '; avatar minutes are billed'}.`
    : `OFFLINE mode (no LIVEAVATAR_API_KEY or HEYGEN_API_KEY, plus DEEPGRAM_API_KEY): local LiveKit and stand-ins for ${service}, Deepgram and the LLM; no network, no credits. --provider ${PROVIDERS.find((p) => p !== offlineProvider)} for the other avatar service.`;
  console.log(`heygen-avatar demo — ${mode}\nOpen ${origin}/  (custom LLM example: ${origin}/custom-llm.html; in Russian: ${origin}/ru.html)   Ctrl-C to stop.`);
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  await broker.close();
  await world?.close();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
