// Three builds:
//   1. dist/npm/          npm ESM with .d.ts, dependencies left as imports
//   2. dist/heygen-avatar.js  the script-tag bundle (minified ES module); livekit-client and the
//                         Deepgram client become lazy chunks in dist/chunks/
//   3. dist/node/         the server side (broker, offline stand-ins, CLIs) for Node ≥ 20, with .d.ts
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import replace from '@rollup/plugin-replace';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { basename, posix } from 'node:path';
import { rollup } from 'rollup';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const version = () =>
  replace({ preventAssignment: true, values: { __HEYGEN_AVATAR_VERSION__: JSON.stringify(pkg.version) } });
const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
const external = (id) =>
  id.startsWith('node:') || builtinModules.includes(id) || deps.some((d) => id === d || id.startsWith(`${d}/`));
const browserTs = (extra = {}) =>
  typescript({ tsconfig: './tsconfig.json', include: ['src/**/*.ts'], exclude: ['src/broker/**', 'src/offline/**', 'src/conformance/**'], ...extra });

// AudioWorklet scripts: `import url from './x.ts?worklet'` bundles x.ts with what it imports into one
// self-contained file (a worklet cannot import at run time), emits it as its own file (page CSPs often
// block blob: worklets) and resolves to its URL, `new URL('…', import.meta.url).href`.
const worklet = ({ fileName, minify = false }) => ({
  name: 'worklet',
  async resolveId(source, importer) {
    if (!source.endsWith('?worklet')) return null;
    const resolved = await this.resolve(source.slice(0, -'?worklet'.length), importer, { skipSelf: true });
    return resolved && `\0worklet:${resolved.id}`;
  },
  async load(id) {
    if (!id.startsWith('\0worklet:')) return null;
    const input = id.slice('\0worklet:'.length);
    const bundle = await rollup({
      input,
      plugins: [
        typescript({ tsconfig: './tsconfig.json', include: ['src/capture/**/*.ts'], declaration: false, declarationMap: false, outDir: undefined, sourceMap: false }),
        ...(minify ? [terser({ format: { comments: false } })] : []),
      ],
    });
    const { output } = await bundle.generate({ format: 'es' });
    await bundle.close();
    for (const file of bundle.watchFiles) this.addWatchFile(file);
    const code = output[0].code;
    const hash = createHash('sha256').update(code).digest('hex').slice(0, 8);
    const ref = this.emitFile({ type: 'asset', fileName: fileName(basename(input, '.ts'), hash), source: code });
    return `export default import.meta.ROLLUP_FILE_URL_${ref};`;
  },
});

// The script bundle loads Deepgram's listen socket without the SDK's HTTP client (see the shim).
const deepgramSdkDir = fileURLToPath(new URL('./node_modules/@deepgram/sdk/', import.meta.url));
const slimDeepgram = () => ({
  name: 'slim-deepgram',
  resolveId(source) {
    if (source === '@deepgram/sdk/listen/v1') return fileURLToPath(new URL('./src/transcriber/deepgram-listen-slim.js', import.meta.url));
    if (source.startsWith('@deepgram/sdk/dist/')) return deepgramSdkDir + source.slice('@deepgram/sdk/'.length);
    return null;
  },
});

// The offline world imports scripts/livekit.mjs, which the server build bundles as
// dist/node/scripts/livekit.js: its declarations go beside it, and the .d.ts files point there.
const livekitScriptTypes = () => ({
  name: 'livekit-script-types',
  generateBundle(_, bundle) {
    for (const file of Object.values(bundle)) {
      if (file.type !== 'asset' || !file.fileName.endsWith('.d.ts')) continue;
      const target = posix.relative(posix.dirname(file.fileName), 'scripts/livekit.js');
      file.source = String(file.source).replace(/(['"])(?:\.\.\/)+scripts\/livekit\.mjs\1/g, `$1${target.startsWith('.') ? target : `./${target}`}$1`);
    }
    this.emitFile({ type: 'asset', fileName: 'scripts/livekit.d.ts', source: readFileSync(new URL('./scripts/livekit.d.mts', import.meta.url), 'utf8') });
  },
});

export default [
  {
    input: { index: 'src/index.ts', 'element/define': 'src/element/define.ts', 'capture/microphone': 'src/capture/microphone.ts' },
    external,
    plugins: [version(), worklet({ fileName: (name) => `capture/${name}.js` }), browserTs({ declaration: true, declarationDir: 'dist/npm', outDir: 'dist/npm' })],
    output: { dir: 'dist/npm', format: 'es', preserveModules: true, preserveModulesRoot: 'src', sourcemap: true },
  },
  {
    input: 'src/script.ts',
    // @deepgram/sdk's ESM build has TypeScript's `this && this.__awaiter` helpers at top level.
    onwarn(warning, warn) {
      if (warning.code === 'THIS_IS_UNDEFINED' && warning.id?.includes('@deepgram/sdk')) return;
      warn(warning);
    },
    plugins: [
      version(),
      replace({ preventAssignment: true, values: { 'process.env.NODE_ENV': JSON.stringify('production') } }),
      slimDeepgram(),
      nodeResolve({ browser: true, exportConditions: ['browser', 'module', 'import', 'default'] }),
      commonjs(),
      worklet({ fileName: (name, hash) => `chunks/${name}-${hash}.js`, minify: true }),
      browserTs(),
      terser({ format: { comments: false }, compress: { passes: 2 } }),
    ],
    output: {
      dir: 'dist',
      format: 'es',
      entryFileNames: 'heygen-avatar.js',
      chunkFileNames: 'chunks/[name]-[hash].js',
      sourcemap: true,
    },
  },
  {
    input: { 'offline/index': 'src/offline/index.ts', 'offline/cli': 'src/offline/cli.ts', 'broker/index': 'src/broker/index.ts', 'broker/cli': 'src/broker/cli.ts', 'conformance/index': 'src/conformance/index.ts', 'conformance/cli': 'src/conformance/cli.ts' },
    external,
    plugins: [
      version(),
      // With .d.ts: TypeScript back ends import heygen-avatar/broker and heygen-avatar/dev typed.
      typescript({ tsconfig: './tsconfig.json', include: ['src/{broker,offline,shared,conformance}/**/*.ts', 'src/version.ts'], outDir: 'dist/node', declaration: true, declarationDir: 'dist/node' }),
      livekitScriptTypes(),
    ],
    output: { dir: 'dist/node', format: 'es', preserveModules: true, preserveModulesRoot: 'src', sourcemap: true },
  },
];
