// The session broker as a route handler: /api/avatar/session, /stt-token, /heartbeat, /close and
// /llm, configured from the same environment variables as `npx heygen-avatar-broker` (docs/broker.md).
import { configFromEnv, createSessionBroker, type SessionBroker } from 'heygen-avatar/broker';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// One broker per server process, made at the first request: `next build` loads this module without
// the keys, and a dev server's reloads keep the one broker.
const cache = globalThis as typeof globalThis & { heygenAvatarBroker?: SessionBroker };
const broker = () => (cache.heygenAvatarBroker ??= createSessionBroker(configFromEnv(process.env).config));

const handle = (request: Request) => broker().handle(request);
export { handle as GET, handle as POST, handle as OPTIONS };
