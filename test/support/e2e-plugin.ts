// web-test-runner plugin: the Node side of browser and e2e tests. Pages call these through
// `executeServerCommand(name, payload)` from @web/test-runner-commands. Real servers only:
// the LiveKit server binary, real publishers, and (later) the offline stand-ins.
import type { TestRunnerPlugin } from '@web/test-runner';
import { dispose } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { startBrokerServer, type BrokerServer } from '../../src/broker/index.js';
import { startDeepgramStandIn, type DeepgramStandIn } from '../../src/offline/deepgram/index.js';
import { PhraseRecognizer } from '../../src/offline/deepgram/recognizer.js';
import { startHeygenStandIn, type HeygenStandIn } from '../../src/offline/heygen/index.js';
import type { AvatarProviderName } from './providers.js';
import { DEFAULT_AVATARS } from '../../src/offline/liveavatar/protocol.js';
import { startOfflineWorld, type OfflineWorld } from '../../src/offline/world.js';
import { publishMedia, type MediaPublisher } from '../../src/offline/livekit/media-publisher.js';
import { mintLiveKitToken } from '../../src/offline/livekit/tokens.js';
import { startLiveKit } from '../../scripts/livekit.mjs';

interface LiveKitHandle {
  url: string;
  apiKey: string;
  apiSecret: string;
  stop(): Promise<void>;
}

/** Koa middleware: token endpoints that fail the ways real ones do, for the element's error tests. */
export async function tokenFaultMiddleware(ctx: { path: string; status: number; body: unknown; set(k: string, v: string): void }, next: () => Promise<void>) {
  const m = /^\/_token-fault\/([\w-]+)$/.exec(ctx.path);
  if (!m) return next();
  const kind = m[1];
  ctx.status = kind === 'bad-json' ? 200 : kind === 'not-json' ? 502 : Number(kind);
  if (kind === 'not-json') {
    ctx.set('content-type', 'text/html');
    ctx.body = '<html><body>Bad gateway</body></html>';
  } else {
    ctx.set('content-type', 'application/json');
    ctx.body = kind === 'bad-json'
      ? JSON.stringify({ provider: 'heygen-streaming', sessionId: 42 })
      : JSON.stringify({ error: { code: 'upstream_error', message: 'the avatar service failed' } });
  }
}

/**
 * The strict Content-Security-Policy a careful site sends (README has it for real sites), here with
 * loopback origins for the offline world and violation reports to the recorder.
 */
export const STRICT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self' http://127.0.0.1:* ws://127.0.0.1:*",
  "require-trusted-types-for 'script'",
  'report-uri /_recorder/csp-report',
].join('; ');

/** Koa middleware: serves a test page asked for with `?csp=strict` with the strict policy header. */
export async function cspMiddleware(ctx: { path: string; query: Record<string, unknown>; set(k: string, v: string): void }, next: () => Promise<void>) {
  if (ctx.path.startsWith('/test/e2e/pages/') && ctx.query.csp === 'strict') ctx.set('content-security-policy', STRICT_CSP);
  return next();
}

/** Requests the widget sends to session-endpoint URLs under `/_recorder/<name>`, for the session tests. */
const recorded: { name: string; method: string; authorization: string | null; body: string }[] = [];

/** Koa middleware: answers `/_recorder/<name>` (204, or a fresh STT token for `stt-token`) and records each request. */
export async function recorderMiddleware(
  ctx: { path: string; method: string; status: number; body: unknown; req: NodeJS.ReadableStream; get(k: string): string; set(k: string, v: string): void },
  next: () => Promise<void>,
) {
  const m = /^\/_recorder\/([\w-]+)$/.exec(ctx.path);
  if (!m) return next();
  let body = '';
  for await (const chunk of ctx.req) body += String(chunk);
  recorded.push({ name: m[1], method: ctx.method, authorization: ctx.get('authorization') || null, body });
  if (m[1] === 'stt-token') {
    ctx.status = 200;
    ctx.set('content-type', 'application/json');
    ctx.body = JSON.stringify(await grantDeepgramToken());
  } else {
    ctx.status = 204;
  }
}

let deepgram: Promise<DeepgramStandIn> | undefined;
const DEEPGRAM_KEY = 'browser-deepgram-key';
/** A Deepgram stand-in of its own (no LiveKit needed) and a temporary token for it. */
async function grantDeepgramToken(): Promise<{ url: string; token: string; expiresIn: number }> {
  const dg = await (deepgram ??= startDeepgramStandIn({ apiKey: DEEPGRAM_KEY }));
  const res = await fetch(`${dg.url}/v1/auth/grant`, {
    method: 'POST',
    headers: { authorization: `Token ${DEEPGRAM_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttl_seconds: 60 }),
  });
  const grant = (await res.json()) as { access_token: string; expires_in: number };
  return { url: dg.url, token: grant.access_token, expiresIn: grant.expires_in };
}

/** A LiveAvatar stand-in avatar that is not the sandbox one (a paid session's). */
const LIVEAVATAR_AVATAR_ID = DEFAULT_AVATARS.find((a) => a.name === 'Judy')!.id;

export function e2ePlugin(): TestRunnerPlugin {
  let livekit: Promise<LiveKitHandle> | undefined;
  const publishers = new Set<MediaPublisher>();
  const ensureLiveKit = () => (livekit ??= startLiveKit() as Promise<LiveKitHandle>);
  let heygen: Promise<HeygenStandIn> | undefined;
  let pageOrigin = 'http://localhost:8000';
  let world: Promise<{ world: OfflineWorld; brokers: Record<AvatarProviderName, BrokerServer> }> | undefined;
  /**
   * The whole offline world plus a session broker per avatar service pointed at it, as `npm start`
   * runs them. Session ids are unique across both stand-ins, so what reached them is merged.
   */
  const ensureWorld = () =>
    (world ??= (async () => {
      const w = await startOfflineWorld({ llm: { ttftMs: 150, tokensPerSecond: 60 }, heygen: { maxConcurrentSessions: 5 }, liveavatar: { maxConcurrentSessions: 5 } });
      const common = {
        deepgram: { apiKey: w.keys.deepgram, apiBase: w.deepgram.url },
        llm: { provider: 'gemini' as const, apiKey: w.keys.gemini, apiBase: w.llm.url, systemPrompt: 'You are a helpful avatar.' },
        allowedOrigins: [pageOrigin],
        maxSessions: 5,
        maxSessionsPerClient: 5,
        // Every test session comes from one address: the per-client rate would refuse a whole suite.
        rateLimits: { session: { perMinute: 120, burst: 20 } },
        logLevel: 'warn' as const,
      };
      const [heygenBroker, liveavatarBroker] = await Promise.all([
        startBrokerServer({ ...common, heygen: { apiKey: w.keys.heygen, apiBase: w.heygen.url }, avatarIds: ['Anna_public_3'] }, { port: 0 }),
        startBrokerServer({ ...common, liveavatar: { apiKey: w.keys.liveavatar, apiBase: w.liveavatar.url }, avatarIds: [LIVEAVATAR_AVATAR_ID] }, { port: 0 }),
      ]);
      return { world: w, brokers: { 'heygen-streaming': heygenBroker, liveavatar: liveavatarBroker } };
    })());
  /** Sentences and interruptions as they reached either avatar stand-in, oldest first. */
  const tasks = async () => {
    const { world: w } = await ensureWorld();
    const spoken = w.liveavatar.commands.filter((c) => c.eventType === 'avatar.speak_text').map((c) => ({ sessionId: c.sessionId, text: c.text ?? '', receivedAt: c.receivedAt }));
    return [...w.heygen.tasks, ...spoken].sort((a, b) => a.receivedAt - b.receivedAt);
  };
  const interrupts = async () => {
    const { world: w } = await ensureWorld();
    const sent = w.liveavatar.commands.filter((c) => c.eventType === 'avatar.interrupt').map((c) => ({ sessionId: c.sessionId, receivedAt: c.receivedAt }));
    return [...w.heygen.interrupts, ...sent].sort((a, b) => a.receivedAt - b.receivedAt);
  };
  const HEYGEN_KEY = 'e2e-heygen-key';
  const ensureHeygen = () =>
    (heygen ??= ensureLiveKit().then((lk) => startHeygenStandIn({ apiKey: HEYGEN_KEY, livekit: lk, maxConcurrentSessions: 5 })));

  return {
    name: 'heygen-avatar-e2e',

    serverStart({ config }) {
      pageOrigin = `${config.http2 ? 'https' : 'http'}://${config.hostname}:${config.port}`;
    },

    async executeCommand({ command, payload, session }) {
      const args = (payload ?? {}) as Record<string, unknown>;
      switch (command) {
        case 'livekit:publish': {
          // Publishes a test pattern: `moving` (changing frames + a 440 Hz tone) or `frozen`
          // (one still frame + silence), and returns what a viewer page needs to join.
          const lk = await ensureLiveKit();
          const room = String(args.room);
          const moving = args.mode !== 'frozen';
          let phase = 0;
          const publisher = await publishMedia({
            url: lk.url,
            token: await mintLiveKitToken(lk, room, 'publisher'),
            paint: (rgba, index) => paintTestPattern(rgba, 640, 360, moving ? index : 0),
            pull: (pcm) => {
              if (!moving) return;
              for (let i = 0; i < pcm.length; i++) {
                pcm[i] = Math.round(8000 * Math.sin(phase));
                phase += (2 * Math.PI * 440) / 48_000;
              }
            },
          });
          publishers.add(publisher);
          return { url: lk.url, token: await mintLiveKitToken(lk, room, `viewer-${room}`, { canPublish: false }) };
        }
        case 'livekit:stop-publishers': {
          await Promise.all([...publishers].map((p) => p.close()));
          publishers.clear();
          return true;
        }
        case 'heygen:session': {
          // What a session broker does server side: a session token, then streaming.new.
          const hg = await ensureHeygen();
          const post = async (path: string, body: unknown, auth: Record<string, string>) => {
            const res = await fetch(`${hg.url}/v1/${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...auth },
              body: JSON.stringify(body),
            });
            return (await res.json()) as { code: number; data: any; message: string };
          };
          const { data } = await post('streaming.create_token', {}, { 'x-api-key': HEYGEN_KEY });
          const created = await post(
            'streaming.new',
            { quality: 'medium', avatar_id: 'Anna_public_3', version: 'v2', video_encoding: 'VP8', language: 'en', ...(args.body as object) },
            { authorization: `Bearer ${data.token}` },
          );
          if (created.code !== 100) throw new Error(`streaming.new failed: ${created.message}`);
          return { apiBase: hg.url, token: data.token, session: created.data };
        }
        case 'heygen:open-sessions': {
          return (await ensureHeygen()).openSessions;
        }
        case 'deepgram:grant':
          return grantDeepgramToken();
        case 'deepgram:open-streams':
          return deepgram ? (await deepgram).openStreams : 0;
        case 'recorder:take':
          return recorded.splice(0);
        case 'world:start': {
          const { brokers } = await ensureWorld();
          const provider = (args.provider ?? 'heygen-streaming') as AvatarProviderName;
          return { tokenEndpoint: `${brokers[provider].url}/api/avatar/session`, provider };
        }
        case 'world:tasks':
          return tasks();
        case 'world:interrupts':
          return interrupts();
        case 'world:room-publishers': {
          // Who publishes what in the avatar rooms, from the LiveKit server itself: the visitor's
          // microphone must never be among them (our speech recognition is Deepgram).
          const lk = (await ensureWorld()).world.livekit;
          const rooms = new RoomServiceClient(lk.httpUrl, lk.apiKey, lk.apiSecret);
          const out: { room: string; identity: string; tracks: string[] }[] = [];
          for (const room of await rooms.listRooms()) {
            for (const p of await rooms.listParticipants(room.name)) out.push({ room: room.name, identity: p.identity, tracks: p.tracks.map((t) => String(t.type)) });
          }
          return out;
        }
        case 'page:close-mid-session': {
          // A visitor closing the tab, as the browser does it: a second page of this test's
          // Chromium opens `path`, starts a session, and is closed with its beforeunload/pagehide
          // handlers run. Resolves with `{sessionId}` once the page is gone.
          const opener = (session.browser as unknown as { getPage(id: string): import('puppeteer-core').Page }).getPage(session.id);
          const page = await opener.browser().newPage();
          await page.goto(new URL(String(args.path), opener.url()).href, { waitUntil: 'load' });
          const sessionId = await page.evaluate(async (tokenEndpoint: string) => {
            await customElements.whenDefined('heygen-avatar');
            const el = document.querySelector('heygen-avatar') as HTMLElement & { start(): Promise<void>; sessionId?: string };
            el.setAttribute('token-endpoint', tokenEndpoint);
            await el.start();
            // A moment of live capture: the microphone's audio graph running is what made the old
            // report (sent after the microphone had stopped) go missing.
            await new Promise((r) => setTimeout(r, 1500));
            return el.sessionId ?? null;
          }, String(args.tokenEndpoint));
          await page.close({ runBeforeUnload: true });
          // An object: web-test-runner takes an undefined answer for an unknown command.
          return { sessionId };
        }
        case 'world:llm-calls':
          return (await ensureWorld()).world.llm.calls;
        case 'world:deepgram-listens':
          // The query of every /v1/listen stream the offline Deepgram opened: what the widget asked for.
          return (await ensureWorld()).world.deepgram.listens;
        case 'speech:recognize': {
          // Recognises speech a page recorded (base64 16 kHz Int16, `recordAudio`) against `phrases`
          // spoken in `language`, as the offline Deepgram would: `interim` matches a beginning.
          const pcm = new Int16Array(Uint8Array.from(Buffer.from(String(args.pcm), 'base64')).buffer);
          const language = String(args.language);
          const recognizer = await PhraseRecognizer.create({ [language]: args.phrases as string[] });
          try {
            return { words: (await recognizer.recognize(pcm, args.kind === 'final' ? 'final' : 'interim', language)).map((w) => w.word) };
          } finally {
            await recognizer.close();
          }
        }
        case 'world:open-sessions': {
          const { world: w } = await ensureWorld();
          return w.heygen.openSessions + w.liveavatar.openSessions;
        }
        default:
          return undefined;
      }
    },

    async serverStop() {
      await Promise.all([...publishers].map((p) => p.close()));
      if (heygen) await (await heygen).close();
      if (deepgram) await (await deepgram).close();
      if (world) {
        const { world: w, brokers } = await world;
        await Promise.all(Object.values(brokers).map((b) => b.close()));
        await w.close();
      }
      if (livekit) await (await livekit).stop();
      await dispose();
    },
  };
}

/** Vertical bars that scroll one step per frame, and a frame counter block in the corner. */
function paintTestPattern(rgba: Uint8Array, width: number, height: number, index: number): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const band = Math.floor((x + index * 8) / 40) % 4;
      rgba[o] = band === 0 ? 230 : band === 1 ? 30 : 120;
      rgba[o + 1] = band === 2 ? 220 : 40 + ((y * 200) / height) | 0;
      rgba[o + 2] = band === 3 ? 240 : 60;
      rgba[o + 3] = 255;
    }
  }
}
