#!/usr/bin/env node
import { main } from '../dist/node/broker/cli.js';

main().catch((err) => {
  console.error(`heygen-avatar-broker: ${err?.message ?? err}`);
  process.exit(1);
});
