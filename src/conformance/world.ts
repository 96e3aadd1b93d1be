// The offline world as the conformance kit sees it: only over HTTP, with the keys every stand-in
// accepts (OFFLINE_KEYS), so a world started by the kit and one started elsewhere
// (`heygen-avatar-dev`, another test) look the same. The endpoint under test must be configured
// with these stand-ins' URLs and keys.
import { OFFLINE_KEYS, startOfflineWorld, type OfflineWorld } from '../offline/world.js';

/** Where the four stand-ins the endpoint talks to listen. */
export interface WorldUrls {
  heygen: string;
  liveavatar: string;
  deepgram: string;
  llm: string;
}

/** One scripted LLM reply: the stand-in answers `reply` to a last user message containing `match`. */
interface ScriptedReply {
  match: string;
  reply: string;
}

export interface WorldView {
  readonly urls: WorldUrls;
  /** The long-lived keys the endpoint holds: none may reach the browser. */
  readonly keys: Record<string, string>;
  /** True while the avatar service still has the session open (not stopped). */
  isOpen(provider: string, sessionId: string): Promise<boolean>;
  /** The LLM stand-in's calls (`GET /_calls`), oldest first. */
  llmCalls(): Promise<{ messages: { role: string; text: string }[]; status: string }[]>;
  /** Sets the LLM stand-in's clock and script; resolves with a function that puts the old ones back. */
  configureLlm(settings: { ttftMs: number; tokensPerSecond: number; replies: ScriptedReply[] }): Promise<() => Promise<void>>;
}

/** A view of the stand-ins at `urls`. */
export function worldView(urls: WorldUrls): WorldView {
  const get = async (url: string, headers: Record<string, string>) => {
    const res = await fetch(url, { headers });
    const body = (await res.json().catch(() => undefined)) as { data?: any } | undefined;
    return { status: res.status, body };
  };
  const postJson = async (url: string, body: unknown) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}: ${await res.text()}`);
  };
  return {
    urls,
    keys: { ...OFFLINE_KEYS },
    async isOpen(provider, sessionId) {
      if (provider === 'liveavatar') {
        // A session made by /v1/sessions/token and never started is not "active" in LiveAvatar's list,
        // yet it holds credits until stopped: ask for the session itself.
        const { status, body } = await get(`${urls.liveavatar}/v1/sessions/${encodeURIComponent(sessionId)}`, { 'x-api-key': OFFLINE_KEYS.liveavatar });
        if (status === 404) return false;
        if (status !== 200) throw new Error(`the LiveAvatar stand-in answered HTTP ${status} for session ${sessionId}`);
        return body?.data?.end_reason === undefined;
      }
      if (provider === 'heygen-streaming') {
        const { status, body } = await get(`${urls.heygen}/v1/streaming.list`, { 'x-api-key': OFFLINE_KEYS.heygen });
        if (status !== 200) throw new Error(`the HeyGen stand-in answered HTTP ${status} to streaming.list`);
        return (body?.data?.sessions ?? []).some((s: { session_id?: string }) => s.session_id === sessionId);
      }
      throw new Error(`the offline world has no avatar service "${provider}"`);
    },
    async llmCalls() {
      const { body } = await get(`${urls.llm}/_calls`, {});
      return (body as unknown as { calls?: [] })?.calls ?? [];
    },
    async configureLlm(settings) {
      const before = (await get(`${urls.llm}/_config`, {})).body;
      await postJson(`${urls.llm}/_config`, settings);
      return () => postJson(`${urls.llm}/_config`, before);
    },
  };
}

/** The stand-ins' ports when the kit starts the world: `base` … `base + 3`. */
export const DEFAULT_WORLD_PORT = 8801;

/** Starts the offline world with its stand-ins on fixed ports, so an endpoint configured once finds them again. */
export async function startKitWorld(base = DEFAULT_WORLD_PORT, host = '127.0.0.1'): Promise<{ world: OfflineWorld; view: WorldView }> {
  // The stand-ins' own concurrency limits are out of the way: the endpoint's caps are under test.
  const world = await startOfflineWorld({
    host,
    heygen: { port: base, maxConcurrentSessions: 50 },
    liveavatar: { port: base + 1, maxConcurrentSessions: 50 },
    deepgram: { port: base + 2 },
    llm: { port: base + 3 },
  });
  return { world, view: viewOf(world) };
}

/** The view of a world started in this process. */
export function viewOf(world: OfflineWorld): WorldView {
  return worldView({ heygen: world.heygen.url, liveavatar: world.liveavatar.url, deepgram: world.deepgram.url, llm: world.llm.url });
}

/** The settings an endpoint needs to use the world at `urls`, as the shipped broker's environment variables. */
export function worldEnvironment(urls: WorldUrls): Record<string, string> {
  return {
    LIVEAVATAR_API_BASE: urls.liveavatar,
    LIVEAVATAR_API_KEY: OFFLINE_KEYS.liveavatar,
    HEYGEN_API_BASE: urls.heygen,
    HEYGEN_API_KEY: OFFLINE_KEYS.heygen,
    DEEPGRAM_API_BASE: urls.deepgram,
    DEEPGRAM_API_KEY: OFFLINE_KEYS.deepgram,
    GEMINI_API_BASE: urls.llm,
    GEMINI_API_KEY: OFFLINE_KEYS.gemini,
  };
}
