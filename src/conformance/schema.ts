// The contract's JSON Schema (generated from src/shared/contract.ts, shipped in the package as
// `heygen-avatar/session-endpoint.schema.json`) and a validator per definition.
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/** The schema document, found through the package's own exports (from the sources and from dist alike). */
export const contractSchema = require('heygen-avatar/session-endpoint.schema.json') as { definitions: Record<string, unknown> };

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema(contractSchema, 'contract');
const validators = new Map<string, ValidateFunction>();

/** The problems of `value` as the contract's `definition` (`SessionResponse`, `SttTokenResponse`, …); empty when it conforms. */
export function schemaProblems(definition: string, value: unknown): string[] {
  let validate = validators.get(definition);
  if (!validate) {
    validate = ajv.getSchema(`contract#/definitions/${definition}`);
    if (!validate) throw new Error(`the contract has no definition ${definition}`);
    validators.set(definition, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(the answer)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` "${e.params.additionalProperty}"` : ''}`);
}
