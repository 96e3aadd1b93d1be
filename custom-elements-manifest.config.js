// Custom Elements Manifest (custom-elements.json), made by `npm run build` from the class JSDoc of
// src/element/heygen-avatar.ts: IDEs, Storybook and framework wrappers read it, and
// scripts/api-docs.mjs writes the README's API tables from it.

/** Where the npm build puts each source module (the manifest describes the shipped files). */
const shipped = (path) => path.replace(/^src\/(.*)\.ts$/, 'dist/npm/$1.js');

/**
 * The class JSDoc's `@attr {type} [name=default] - description` wins over what the Lit plugin
 * derives from the decorated field (its type is the property's, `string | null`, and its default
 * `null`; the JSDoc says which values the attribute takes and what applies when it is absent).
 */
function classJsDocAttributes() {
  const tag = /^(?:\{(?<type>.+?)\}\s+)?(?:\[(?<optional>[^\]=\s]+)(?:=(?<default>[^\]]*))?\]|(?<name>\S+))(?:\s+-\s+(?<description>[\s\S]*))?$/;
  return {
    name: 'heygen-avatar: class JSDoc attributes',
    analyzePhase({ ts, node, moduleDoc }) {
      if (!ts.isClassDeclaration(node)) return;
      const classDoc = moduleDoc.declarations.find((d) => d.name === node.name?.getText());
      for (const jsDoc of node.jsDoc ?? []) {
        for (const t of jsDoc.tags ?? []) {
          if (t.tagName.text !== 'attr') continue;
          const m = tag.exec(ts.getTextOfJSDocComment(t.comment)?.trim() ?? '');
          const name = m?.groups.optional ?? m?.groups.name;
          const attribute = classDoc?.attributes?.find((a) => a.name === name);
          if (!attribute) continue;
          if (m.groups.type) attribute.type = { text: m.groups.type };
          if (m.groups.description) attribute.description = m.groups.description.replace(/\s+/g, ' ').trim();
          if (m.groups.default !== undefined) attribute.default = m.groups.default;
          else delete attribute.default;
        }
      }
    },
  };
}

/**
 * Only the public API: no private or protected members, no events found in the generic `emit()`
 * helper (the documented ones come from `@fires`), paths of the shipped files, and the tag's
 * definition (define.ts registers it through a parameter the analyzer cannot follow).
 */
function publicApi() {
  return {
    name: 'heygen-avatar: public API',
    packageLinkPhase({ customElementsManifest }) {
      const elements = customElementsManifest.modules.flatMap((m) => m.declarations.filter((d) => d.customElement).map((d) => ({ d, module: m.path })));
      for (const { d } of elements) {
        d.members = d.members?.filter((m) => !m.privacy || m.privacy === 'public');
        d.events = d.events?.filter((e) => e.description);
      }
      for (const m of customElementsManifest.modules) {
        if (m.path !== 'src/element/define.ts') continue;
        m.exports = m.exports.filter((e) => e.kind !== 'custom-element-definition');
        for (const { d, module } of elements) {
          m.exports.push({ kind: 'custom-element-definition', name: d.tagName, declaration: { name: d.name, module } });
        }
      }
      const walk = (value) => {
        if (Array.isArray(value)) return value.forEach(walk);
        if (!value || typeof value !== 'object') return;
        for (const [key, v] of Object.entries(value)) {
          if ((key === 'path' || key === 'module') && typeof v === 'string') value[key] = shipped(v);
          else walk(v);
        }
      };
      walk(customElementsManifest.modules);
    },
  };
}

export default {
  globs: ['src/element/heygen-avatar.ts', 'src/element/define.ts'],
  outdir: '.',
  litelement: true,
  // package.json names the manifest itself ("customElements"); the analyzer would rewrite the file.
  packagejson: false,
  plugins: [classJsDocAttributes(), publicApi()],
};
