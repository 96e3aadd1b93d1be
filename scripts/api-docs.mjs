#!/usr/bin/env node
// Writes the README's API tables from the Custom Elements Manifest (custom-elements.json, made from
// the class JSDoc by `npm run build`): the attributes between <!-- api:attributes:start/end -->,
// properties, methods, events, slots, parts and CSS custom properties between <!-- api:start/end -->.
//   node scripts/api-docs.mjs           rewrite README.md
//   node scripts/api-docs.mjs --check   write nothing; exit 1 when README.md is not what it would write
// `npm run api-docs` makes the manifest and then runs this.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
export const README = fileURLToPath(new URL('README.md', root));
export const MANIFEST = fileURLToPath(new URL('custom-elements.json', root));

/** The manifest's one custom element. */
export function elementOf(manifest) {
  const elements = manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.customElement);
  if (elements.length !== 1) throw new Error(`api-docs: expected one custom element in the manifest, found ${elements.length}`);
  return elements[0];
}

const cell = (text) => (text ?? '').replace(/\s+/g, ' ').trim().replaceAll('|', '\\|');
const code = (text) => (text ? `\`${cell(text)}\`` : '—');
const table = (head, rows) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
/** `'low' | 'medium'` → `low`, `medium`; `boolean` → a flag; otherwise the type without `null`. */
const values = (type) => {
  const parts = (type ?? 'string').split('|').map((p) => p.trim()).filter((p) => p !== 'null');
  if (parts.every((p) => /^'.*'$/.test(p))) return parts.map((p) => code(p.slice(1, -1))).join(', ');
  if (parts.join() === 'boolean') return 'flag';
  return code(parts.join(' | '));
};
const signature = (m) => `${m.name}(${(m.parameters ?? []).map((p) => `${p.name}: ${p.type?.text ?? 'unknown'}`).join(', ')}): ${m.return?.type?.text ?? 'void'}`;

export function attributeTable(el) {
  return table(
    ['attribute', 'property', 'values', 'default', 'meaning'],
    el.attributes.map((a) => [code(a.name), code(a.fieldName), values(a.type?.text), code(a.default), cell(a.description)]),
  );
}

export function apiTables(el) {
  const fields = el.members.filter((m) => m.kind === 'field' && !m.attribute);
  const methods = el.members.filter((m) => m.kind === 'method');
  return [
    'Every attribute is also a property (the camelCase name in the attribute table). The other properties:',
    '',
    table(
      ['property', 'type', 'meaning'],
      fields.map((f) => [`${code(f.name)}${f.readonly ? ' (read-only)' : ''}`, code(f.type?.text), cell(f.description)]),
    ),
    '',
    table(['method', 'meaning'], methods.map((m) => [code(signature(m)), cell(m.description)])),
    '',
    'Events: all `CustomEvent`s, bubbling and composed, typed in `GlobalEventHandlersEventMap`.',
    '',
    table(['event', 'type', '`detail` and meaning'], el.events.map((e) => [code(e.name), code(e.type?.text), cell(e.description)])),
    '',
    'Styling: named slots with default content, `part`s on the internals, and CSS custom properties on `:host`.',
    '',
    table(['slot', 'meaning'], el.slots.map((s) => [code(s.name), cell(s.description)])),
    '',
    table(['part', 'meaning'], el.cssParts.map((p) => [code(p.name), cell(p.description)])),
    '',
    table(['CSS custom property', 'default', 'meaning'], el.cssProperties.map((p) => [code(p.name), code(p.default), cell(p.description)])),
  ].join('\n');
}

/** Replaces what stands between `<!-- api[:name]:start -->` and its end marker. */
function fill(text, name, content) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`api-docs: README.md lacks the markers ${start} … ${end}`);
  return `${text.slice(0, from + start.length)}\n<!-- made by scripts/api-docs.mjs from custom-elements.json: edit the class JSDoc in src/element/heygen-avatar.ts, then npm run api-docs -->\n${content}\n${text.slice(to)}`;
}

/** The README with its API tables made from `manifest`. */
export function updateReadme(text, manifest) {
  const el = elementOf(manifest);
  return fill(fill(text, 'api:attributes', attributeTable(el)), 'api', apiTables(el));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
  const before = readFileSync(README, 'utf8');
  const after = updateReadme(before, manifest);
  if (process.argv.includes('--check')) {
    if (after !== before) {
      console.error('README.md: the API tables are not what custom-elements.json says; run `npm run api-docs` and commit README.md');
      process.exit(1);
    }
  } else if (after !== before) {
    writeFileSync(README, after);
    console.log('README.md: API tables rewritten from custom-elements.json');
  }
}
