#!/usr/bin/env node
import { main } from '../dist/node/conformance/cli.js';

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`heygen-avatar-conformance: ${err?.message ?? err}`);
    process.exit(1);
  },
);
