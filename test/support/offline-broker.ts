// The offline world with a session broker pointed at it, as `npm start` runs them without keys:
// for tests that drive a built page (the packaged script, an example app) through a whole session.
import { startBrokerServer, type BrokerServer } from '../../src/broker/index.js';
import { SANDBOX_AVATAR_ID } from '../../src/offline/liveavatar/index.js';
import { startOfflineWorld, type OfflineWorld } from '../../src/offline/world.js';

export interface OfflineBroker {
  world: OfflineWorld;
  broker: BrokerServer;
  close(): Promise<void>;
}

/** LiveKit and the LiveAvatar, Deepgram and LLM stand-ins, behind a broker that pages from `origins` may use. */
export async function startOfflineBroker(origins: string[]): Promise<OfflineBroker> {
  const world = await startOfflineWorld();
  try {
    const broker = await startBrokerServer(
      {
        liveavatar: { apiKey: world.keys.liveavatar, apiBase: world.liveavatar.url },
        avatarIds: [SANDBOX_AVATAR_ID],
        deepgram: { apiKey: world.keys.deepgram, apiBase: world.deepgram.url },
        llm: { provider: 'gemini', apiKey: world.keys.gemini, apiBase: world.llm.url },
        allowedOrigins: origins,
        logLevel: 'warn',
      },
      { port: 0 },
    );
    return {
      world,
      broker,
      async close() {
        await broker.close();
        await world.close();
      },
    };
  } catch (err) {
    await world.close();
    throw err;
  }
}
