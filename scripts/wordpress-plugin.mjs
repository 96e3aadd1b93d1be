#!/usr/bin/env node
// Puts the built widget into the WordPress plugin (integrations/wordpress/heygen-avatar/widget/:
// heygen-avatar.js and its chunks), so the plugin serves it itself, no CDN. Run after
// `npm run build`; then zip integrations/wordpress/heygen-avatar/ to install it in WordPress
// (Plugins → Add New → Upload). The widget/ folder is a build output, not committed.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const PLUGIN_DIR = join(root, 'integrations/wordpress/heygen-avatar');

/** Copies dist/heygen-avatar.js and dist/chunks/*.js into the plugin; returns the files copied. */
export function bundleWidget() {
  const dist = join(root, 'dist');
  if (!existsSync(join(dist, 'heygen-avatar.js'))) throw new Error('dist/heygen-avatar.js is missing: run npm run build first');
  const out = join(PLUGIN_DIR, 'widget');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'chunks'), { recursive: true });
  cpSync(join(dist, 'heygen-avatar.js'), join(out, 'heygen-avatar.js'));
  const chunks = readdirSync(join(dist, 'chunks')).filter((f) => f.endsWith('.js'));
  for (const f of chunks) cpSync(join(dist, 'chunks', f), join(out, 'chunks', f));
  return ['heygen-avatar.js', ...chunks.map((f) => `chunks/${f}`)];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = bundleWidget();
  console.log(`copied ${files.length} widget files into ${join(PLUGIN_DIR, 'widget')}`);
}
