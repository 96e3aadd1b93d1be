#!/usr/bin/env node
// Writes dist/types/attributes.d.ts from the Custom Elements Manifest (custom-elements.json): each
// attribute of <heygen-avatar> with the values it takes, and the property behind it. The framework
// typings in types/ (React's JSX, Vue's GlobalComponents) read it, so a new attribute reaches them
// with the build. Run by `npm run build` after the manifest.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { elementOf, MANIFEST } from './api-docs.mjs';

const out = new URL('../dist/types/attributes.d.ts', import.meta.url);
const el = elementOf(JSON.parse(readFileSync(MANIFEST, 'utf8')));
/** The attribute's values as TypeScript: the manifest's type without `null`. */
const valueType = (type) => (type ?? 'string').split('|').map((t) => t.trim()).filter((t) => t !== 'null').join(' | ');
const doc = (a) => {
  const text = [a.description, a.default && `@default ${a.default}`].filter(Boolean).join(' ');
  return text ? `  /** ${text.replace(/\s+/g, ' ').replaceAll('*/', '*\\/')} */\n` : '';
};

mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(
  out,
  [
    '// Made by scripts/framework-types.mjs from custom-elements.json.',
    '',
    '/** The attributes of `<heygen-avatar>` (kebab-case) with the values each takes. */',
    'export interface HeygenAvatarAttributes {',
    ...el.attributes.map((a) => `${doc(a)}  '${a.name}'?: ${valueType(a.type?.text)};`),
    '}',
    '',
    '/** The property behind each attribute. */',
    `export type HeygenAvatarAttributeProperty = ${el.attributes.map((a) => `'${a.fieldName}'`).join(' | ')};`,
    '',
  ].join('\n'),
);
