#!/usr/bin/env node
// The offline world's CLI. Its npm needs are optional peer dependencies of heygen-avatar (one is a
// 25 MB native WebRTC build for Node that a site using only the element never needs), so say what
// to install when one is missing instead of failing on a bare import error.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const peers = ['@livekit/rtc-node', 'livekit-server-sdk', 'ws'];
let main;
try {
  ({ main } = await import('../dist/node/offline/cli.js'));
} catch (err) {
  const missing = err?.code === 'ERR_MODULE_NOT_FOUND' && peers.find((p) => err.message.includes(`'${p}'`));
  if (!missing) throw err;
  console.error(
    `heygen-avatar-dev: ${missing} is not installed. The offline world needs ${peers.join(', ')} beside heygen-avatar:\n` +
      `  npm install --save-dev ${peers.map((p) => `"${p}@${pkg.peerDependencies[p]}"`).join(' ')}`,
  );
  process.exit(1);
}

main().catch((err) => {
  console.error(`heygen-avatar-dev: ${err?.message ?? err}`);
  process.exit(1);
});
