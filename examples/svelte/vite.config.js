import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The page asks /api/avatar/session for its session: pass it to a session broker
// (`npx heygen-avatar-broker`, default port 8787; examples/README.md runs one offline).
const broker = { '/api/avatar': process.env.HEYGEN_AVATAR_BROKER ?? 'http://127.0.0.1:8787' };

export default defineConfig({
  plugins: [svelte()],
  server: { proxy: broker },
  preview: { proxy: broker },
});
