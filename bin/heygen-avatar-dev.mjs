#!/usr/bin/env node
import { main } from '../dist/node/offline/cli.js';

main().catch((err) => {
  console.error(`heygen-avatar-dev: ${err?.message ?? err}`);
  process.exit(1);
});
