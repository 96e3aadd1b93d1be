#!/usr/bin/env node
// The container's HEALTHCHECK: GET {BASE_PATH}/healthz on this broker; exit 0 when it answers 200
// (the broker and its session store are up), 1 otherwise. Node's fetch: the image needs no curl.
const port = process.env.PORT || '8787';
const base = `/${(process.env.BASE_PATH || '/api/avatar').replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
const url = `http://127.0.0.1:${port}${base}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2500) });
  if (!res.ok) console.error(`${url} answered HTTP ${res.status}`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`${url}: ${err.cause?.code ?? err.message}`);
  process.exit(1);
}
