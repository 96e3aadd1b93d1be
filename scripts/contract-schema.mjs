#!/usr/bin/env node
// The session endpoint contract as JSON Schema, generated from its TypeScript types
// (src/shared/contract.ts, JSDoc included) so the two cannot drift apart:
//   node scripts/contract-schema.mjs          writes schema/session-endpoint.schema.json
//   node scripts/contract-schema.mjs --check  exits 1 when the committed file is stale
// test/unit/contract-schema.test.ts runs the check; the package ships the file
// (`heygen-avatar/session-endpoint.schema.json`) and the conformance kit validates answers with it.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SCHEMA_FILE = `${root}schema/session-endpoint.schema.json`;

/** The schema text (JSON, two-space indent, final newline) for the contract as it is now. */
export function contractSchemaText() {
  const generator = createGenerator({
    path: `${root}src/shared/contract.ts`,
    tsconfig: `${root}tsconfig.json`,
    type: '*',
    expose: 'export',
    jsDoc: 'extended',
    additionalProperties: false,
    skipTypeCheck: true,
    sortProps: true,
  });
  const generated = generator.createSchema('*');
  const schema = {
    $schema: generated.$schema,
    $id: 'urn:heygen-avatar:session-endpoint',
    title: 'heygen-avatar session endpoint contract',
    description:
      'Every request and answer of the session endpoint (docs/broker.md, "The JSON contract"). Generated from src/shared/contract.ts; validate an answer against #/definitions/SessionResponse, …',
    definitions: generated.definitions,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = contractSchemaText();
  if (process.argv.includes('--check')) {
    const current = readFileSync(SCHEMA_FILE, 'utf8');
    if (current !== text) {
      console.error(`${SCHEMA_FILE} is stale: run node scripts/contract-schema.mjs`);
      process.exit(1);
    }
  } else {
    writeFileSync(SCHEMA_FILE, text);
    console.log(`wrote ${SCHEMA_FILE}`);
  }
}
