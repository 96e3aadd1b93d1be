// custom-elements.json (made by the build from the class JSDoc) against the element itself: what Lit
// declares, what the class exposes, what render() draws, what the styles read and what events.ts
// types. An attribute, part, slot, CSS property or event the JSDoc does not describe fails here, and
// so does a README whose API tables are not what the manifest says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { DEFAULTS } from '../../src/element/config.ts';
import { HeygenAvatar } from '../../src/element/heygen-avatar.ts';
import { MANIFEST, README, elementOf, updateReadme, type Manifest } from '../../scripts/api-docs.mjs';

const elementDir = fileURLToPath(new URL('../../src/element/', import.meta.url));
const read = (file: string) => readFileSync(elementDir + file, 'utf8');
const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
const el = elementOf(manifest);
const names = (entries: { name: string }[]) => entries.map((e) => e.name).sort();
const unique = (values: Iterable<string>) => [...new Set(values)].sort();
/** The element's templates: the class file and the modules that render parts of it. */
const templates = readdirSync(elementDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.styles.ts'))
  .map(read)
  .join('\n');

/** The class as TypeScript sees it, for its public members and the event detail types. */
const program = ts.createProgram([elementDir + 'heygen-avatar.ts', elementDir + 'events.ts'], {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  experimentalDecorators: true,
  strict: true,
  skipLibCheck: true,
  noEmit: true,
});
const checker = program.getTypeChecker();
const classNode = program
  .getSourceFile(elementDir + 'heygen-avatar.ts')!
  .statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === 'HeygenAvatar')!;
const publicMembers = classNode.members.filter((m) => {
  const flags = ts.getCombinedModifierFlags(m as ts.Declaration);
  const hidden = ts.ModifierFlags.Private | ts.ModifierFlags.Protected | ts.ModifierFlags.Static | ts.ModifierFlags.Override;
  const internal = ts.getJSDocTags(m).some((t) => t.tagName.text === 'internal');
  return m.name && !ts.isPrivateIdentifier(m.name) && !(flags & hidden) && !internal;
});
const memberNames = (test: (m: ts.ClassElement) => boolean) => unique(publicMembers.filter(test).map((m) => m.name!.getText()));

describe('custom-elements.json', () => {
  it('names the tag, and define.js as where it is registered', () => {
    assert.equal(el.tagName, 'heygen-avatar');
    assert.equal(el.name, 'HeygenAvatar');
    const definition = manifest.modules.flatMap((m) => m.exports ?? []).find((e) => e.kind === 'custom-element-definition');
    assert.deepEqual(definition, { kind: 'custom-element-definition', name: 'heygen-avatar', declaration: { name: 'HeygenAvatar', module: 'dist/npm/element/heygen-avatar.js' } });
    assert.ok(manifest.modules.some((m) => m.path === 'dist/npm/element/define.js'));
  });

  it('lists every attribute Lit observes, with the property behind it', () => {
    const declared = [...HeygenAvatar.elementProperties]
      .filter(([, options]) => options.attribute !== false && !options.state)
      .map(([name, options]) => `${typeof options.attribute === 'string' ? options.attribute : String(name).toLowerCase()} → ${String(name)}`);
    assert.deepEqual(el.attributes.map((a) => `${a.name} → ${a.fieldName}`).sort(), declared.sort());
  });

  it('gives each attribute the default the element applies when it is absent', () => {
    const defaults = DEFAULTS as Record<string, unknown>;
    const given = el.attributes.filter((a) => a.default !== undefined);
    assert.ok(given.length >= 5, 'the attributes with a fixed default say it');
    for (const a of given) assert.equal(a.default, String(defaults[a.fieldName!]), `${a.name}'s default`);
  });

  it('lists every public property and method of the class, and nothing else', () => {
    const fields = el.members.filter((m) => m.kind === 'field');
    const methods = el.members.filter((m) => m.kind === 'method');
    assert.deepEqual(names(fields), memberNames((m) => ts.isPropertyDeclaration(m) || ts.isGetAccessor(m)));
    assert.deepEqual(names(methods), memberNames(ts.isMethodDeclaration));
    assert.deepEqual(
      names(fields.filter((f) => f.readonly)),
      memberNames((m) => ts.isGetAccessor(m) && !publicMembers.some((s) => ts.isSetAccessor(s) && s.name.getText() === m.name.getText())),
      'getters without a setter are read-only',
    );
    for (const name of ['llm', 'tokenProvider', 'state', 'sessionId', 'history', 'strings']) assert.ok(fields.some((f) => f.name === name), name);
    for (const name of ['start', 'stop', 'say', 'send', 'interrupt', 'mute', 'unmute']) assert.ok(methods.some((m) => m.name === name), name);
  });

  it('lists every part and slot the templates draw', () => {
    const parts = unique([...templates.matchAll(/\bpart="([^"$]+)"/g)].flatMap((m) => m[1].split(/\s+/)));
    const slots = unique([...templates.matchAll(/<slot name="([^"]+)"/g)].map((m) => m[1]));
    assert.deepEqual(names(el.cssParts), parts);
    assert.deepEqual(names(el.slots), slots);
    for (const name of ['poster', 'loading', 'error']) assert.ok(parts.includes(name) && slots.includes(name), name);
  });

  it('lists every CSS custom property the styles read, with its fallback as the default', () => {
    const styles = read('heygen-avatar.styles.ts');
    const fallbacks = new Map<string, string>();
    // `var(--name, fallback)` where the fallback may hold one level of parentheses: rgb(0 0 0 / 0.12).
    for (const m of styles.matchAll(/var\((--heygen-avatar-[\w-]+),\s*((?:[^()]|\([^()]*\))*)\)/g)) {
      if (!fallbacks.has(m[1])) fallbacks.set(m[1], m[2].trim());
    }
    assert.deepEqual(names(el.cssProperties), [...fallbacks.keys()].sort());
    for (const p of el.cssProperties) assert.equal(p.default, fallbacks.get(p.name), `${p.name}'s default`);
  });

  it('lists every event events.ts types, with its detail type and the fields the description names', () => {
    const details = program
      .getSourceFile(elementDir + 'events.ts')!
      .statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'HeygenAvatarEventDetails')!;
    const typed = details.members.filter(ts.isPropertySignature).map((p) => ({
      name: (p.name as ts.StringLiteral).text,
      type: p.type!.getText(),
      fields: checker.getPropertiesOfType(checker.getTypeAtLocation(p.type!)).map((s) => s.name).sort(),
    }));
    assert.deepEqual(names(el.events), names(typed));
    for (const t of typed) {
      const event = el.events.find((e) => e.name === t.name)!;
      assert.equal(event.type?.text, `CustomEvent<${t.type}>`, `${t.name}: @fires {CustomEvent<${t.type}>} ${t.name} - …`);
      const listed = /`\{([^}]*)\}`/.exec(event.description ?? '')?.[1];
      assert.ok(listed, `${t.name}: the description names the detail's fields as \`{…}\``);
      assert.deepEqual(listed.split(',').map((f) => f.trim().replace(/\?$/, '')).sort(), t.fields, `${t.name}'s detail fields`);
    }
  });

  it('describes every attribute, member, event, slot, part and CSS property', () => {
    const all = [...el.attributes, ...el.members, ...el.events, ...el.slots, ...el.cssParts, ...el.cssProperties];
    assert.deepEqual(all.filter((e) => !e.description?.trim()).map((e) => e.name), []);
    assert.ok(el.summary);
  });

  it('is named by package.json and shipped', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    assert.equal(pkg.customElements, 'custom-elements.json');
    assert.ok(pkg.files.includes('custom-elements.json'));
  });
});

describe("README's API tables", () => {
  it('are what custom-elements.json says (npm run api-docs writes them)', () => {
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../scripts/api-docs.mjs', import.meta.url)), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('are found stale when an attribute is missing from them', () => {
    const readme = readFileSync(README, 'utf8');
    assert.equal(updateReadme(readme, manifest), readme);
    const stale = readme.replace(/^\| `greeting` \|.*\n/m, '');
    assert.notEqual(stale, readme);
    assert.notEqual(updateReadme(stale, manifest), stale);
  });
});
