// The whole offline world on one machine: a real LiveKit server, and stand-ins for HeyGen,
// LiveAvatar, Deepgram and the LLM, wired together. Used by `heygen-avatar-dev`, `npm start`
// without keys, the e2e tests and the benchmarks.
import { dispose } from '@livekit/rtc-node';
import { startLiveKit, type LiveKitServer } from '../../scripts/livekit.mjs';
import { startDeepgramStandIn, type DeepgramStandIn, type DeepgramStandInOptions } from './deepgram/index.js';
import { startHeygenStandIn, type HeygenStandIn, type HeygenStandInOptions } from './heygen/index.js';
import { startLiveAvatarStandIn, type LiveAvatarStandIn, type LiveAvatarStandInOptions } from './liveavatar/index.js';
import { startLlmStandIn, type LlmStandIn, type LlmStandInOptions } from './llm/index.js';

/** The keys the stand-ins accept; a broker pointed at the offline world uses these. */
export const OFFLINE_KEYS = {
  heygen: 'offline-heygen-key',
  liveavatar: 'offline-liveavatar-key',
  deepgram: 'offline-deepgram-key',
  gemini: 'offline-gemini-key',
  openai: 'offline-openai-key',
} as const;

export interface OfflineWorldOptions {
  host?: string;
  heygen?: Omit<HeygenStandInOptions, 'livekit' | 'host' | 'apiKey'>;
  liveavatar?: Omit<LiveAvatarStandInOptions, 'livekit' | 'host' | 'apiKey'>;
  deepgram?: Omit<DeepgramStandInOptions, 'host' | 'apiKey'>;
  llm?: Omit<LlmStandInOptions, 'host' | 'geminiApiKey' | 'openaiApiKey'>;
}

export interface OfflineWorld {
  livekit: LiveKitServer;
  heygen: HeygenStandIn;
  liveavatar: LiveAvatarStandIn;
  deepgram: DeepgramStandIn;
  llm: LlmStandIn;
  keys: typeof OFFLINE_KEYS;
  close(): Promise<void>;
}

/** Starts LiveKit and the four stand-ins; `close()` stops them all. */
export async function startOfflineWorld(options: OfflineWorldOptions = {}): Promise<OfflineWorld> {
  const host = options.host ?? '127.0.0.1';
  const livekit = await startLiveKit();
  try {
    const [heygen, liveavatar, deepgram, llm] = await Promise.all([
      startHeygenStandIn({ ...options.heygen, host, apiKey: OFFLINE_KEYS.heygen, livekit }),
      startLiveAvatarStandIn({ ...options.liveavatar, host, apiKey: OFFLINE_KEYS.liveavatar, livekit }),
      startDeepgramStandIn({ ...options.deepgram, host, apiKey: OFFLINE_KEYS.deepgram }),
      startLlmStandIn({ ...options.llm, host, geminiApiKey: OFFLINE_KEYS.gemini, openaiApiKey: OFFLINE_KEYS.openai }),
    ]);
    return {
      livekit,
      heygen,
      liveavatar,
      deepgram,
      llm,
      keys: OFFLINE_KEYS,
      async close() {
        await Promise.allSettled([heygen.close(), liveavatar.close(), deepgram.close(), llm.close()]);
        await livekit.stop();
        await dispose();
      },
    };
  } catch (err) {
    await livekit.stop();
    throw err;
  }
}
