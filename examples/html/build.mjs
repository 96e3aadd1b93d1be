// The site to upload: the page, and the script build copied from the package with its chunks/
// folder beside it (the script loads its lazy parts by URLs relative to itself).
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const script = createRequire(import.meta.url).resolve('heygen-avatar/script');
rmSync('public', { recursive: true, force: true });
mkdirSync('public/heygen-avatar', { recursive: true });
cpSync('index.html', 'public/index.html');
cpSync(script, 'public/heygen-avatar/heygen-avatar.js');
cpSync(join(dirname(script), 'chunks'), 'public/heygen-avatar/chunks', { recursive: true });
console.log('public/: index.html and heygen-avatar/ (heygen-avatar.js, chunks/)');
