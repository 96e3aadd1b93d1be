#!/usr/bin/env node
import { main } from '../dist/node/broker/cli.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`heygen-avatar-broker — the session broker for <heygen-avatar>: it keeps the API keys and
gives each visitor's page a short-lived session (POST {BASE_PATH}/session, default /api/avatar).

Configured by environment variables, at least:
  LIVEAVATAR_API_KEY or HEYGEN_API_KEY   the avatar service
  DEEPGRAM_API_KEY                       speech recognition
  ALLOWED_ORIGINS                        the sites that embed the widget (or *)
  AVATAR_IDS                             the avatars pages may start
and GEMINI_API_KEY or OPENAI_API_KEY for the built-in LLM route; PORT (8787), HOST, REDIS_URL.
Every variable: docs/broker.md (in the package: node_modules/heygen-avatar/docs/broker.md).`);
  process.exit(0);
}

main().catch((err) => {
  console.error(`heygen-avatar-broker: ${err?.message ?? err}`);
  process.exit(1);
});
