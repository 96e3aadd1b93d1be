// The conformance kit against the shipped Node broker (both avatar services, with the real browser
// session through the built widget), and against deliberately broken endpoints: each must fail the
// checks that describe its fault, with a line that says so, and pass the others.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startBrokerServer, type BrokerServer } from '../../src/broker/index.js';
import { formatResult, runConformance, startKitWorld, type CheckResult, type WorldView } from '../../src/conformance/index.js';
import { DEFAULT_AVATARS } from '../../src/offline/liveavatar/protocol.js';
import type { OfflineWorld } from '../../src/offline/world.js';

/** The kit's page origin in these tests. */
const ORIGIN = 'http://127.0.0.1:18790';
const LIVEAVATAR_AVATAR = DEFAULT_AVATARS.find((a) => a.name === 'Judy')!.id;

let world: OfflineWorld;
let view: WorldView;
const servers: { close(): Promise<unknown> }[] = [];

before(async () => {
  ({ world, view } = await startKitWorld(18801));
});
after(async () => {
  for (const s of servers.splice(0).reverse()) await s.close();
  await world.close();
});

async function broker(provider: 'liveavatar' | 'heygen-streaming'): Promise<BrokerServer> {
  const common = {
    deepgram: { apiKey: world.keys.deepgram, apiBase: world.deepgram.url },
    llm: { provider: 'gemini' as const, apiKey: world.keys.gemini, apiBase: world.llm.url },
    allowedOrigins: [ORIGIN],
    // The kit waits out the default rate (10 a minute, burst 5); a wider one keeps the test short.
    rateLimits: { session: { perMinute: 60, burst: 20 } },
    logLevel: 'error' as const,
  };
  const server = await startBrokerServer(
    provider === 'liveavatar'
      ? { ...common, liveavatar: { apiKey: world.keys.liveavatar, apiBase: world.liveavatar.url }, avatarIds: [LIVEAVATAR_AVATAR] }
      : { ...common, heygen: { apiKey: world.keys.heygen, apiBase: world.heygen.url }, avatarIds: ['Anna_public_3'] },
    { port: 0 },
  );
  servers.push(server);
  return server;
}

/**
 * A broken endpoint: a proxy in front of a broker that lets `alter` change each answer (status,
 * headers, JSON body) or answer in the broker's place.
 */
async function brokenEndpoint(
  target: BrokerServer,
  alter: (path: string, answer: { status: number; headers: Record<string, string>; json: any }, body: string) => Promise<typeof answer> | typeof answer,
  /** Requests to these paths get `{"closed": true}` from the proxy; the broker never hears of them. */
  swallow?: RegExp,
): Promise<string> {
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (swallow?.test(path)) {
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': ORIGIN }).end('{"closed":true}');
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
    const upstream = await fetch(`${target.url}${req.url}`, { method: req.method, headers, ...(body ? { body } : {}) });
    // The broker's URLs in its answers are made the proxy's, so the widget's later calls come here too.
    const text = (await upstream.text()).replaceAll(target.url, `http://${req.headers.host}`);
    const answer: { status: number; headers: Record<string, string>; json: any } = {
      status: upstream.status,
      headers: Object.fromEntries([...upstream.headers].filter(([k]) => !['content-length', 'connection', 'keep-alive', 'transfer-encoding'].includes(k))),
      json: undefined,
    };
    try {
      answer.json = text ? JSON.parse(text) : undefined;
    } catch {
      // SSE and empty answers pass as they are
    }
    const altered = await alter(path, answer, body);
    res.writeHead(altered.status, altered.headers).end(altered.json === undefined ? text : JSON.stringify(altered.json));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({ close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/avatar/session`;
}

const byId = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r]));
const failedIds = (results: CheckResult[]) => results.filter((r) => r.status === 'failed').map((r) => r.id);

for (const provider of ['liveavatar', 'heygen-streaming'] as const) {
  describe(`the conformance kit against the shipped Node broker (${provider})`, { timeout: 180_000 }, () => {
    it('passes every check, the browser session included', async () => {
      const b = await broker(provider);
      const results = await runConformance({ endpoint: `${b.url}/api/avatar/session`, origin: ORIGIN, world: view });
      assert.deepEqual(failedIds(results), [], results.map(formatResult).join('\n'));
      assert.equal(results.length, 17);
      assert.equal(byId(results).browser.status, 'passed');
      assert.equal(results.filter((r) => r.status === 'skipped').length, 0);
      assert.equal(world.heygen.openSessions + world.liveavatar.openSessions, 0);
    });
  });
}

describe('the conformance kit against broken endpoints', { timeout: 120_000 }, () => {
  it('an endpoint that echoes a key in a header fails the key scan, and only it', async () => {
    const endpoint = await brokenEndpoint(await broker('liveavatar'), (path, a) =>
      path.endsWith('/session') ? { ...a, headers: { ...a.headers, 'x-debug-upstream': `deepgram ${world.keys.deepgram}` } } : a,
    );
    const results = await runConformance({ endpoint, origin: ORIGIN, world: view, browser: false, only: ['schema', 'close-beacon'] });
    assert.deepEqual(failedIds(results), ['key-scan'], results.map(formatResult).join('\n'));
    assert.match(formatResult(byId(results)['key-scan']), /^FAIL key-scan .* — the deepgram key in POST session \(HTTP 200\)/);
  });

  it('an endpoint that omits closeUrl fails the schema check, naming the field', async () => {
    const endpoint = await brokenEndpoint(await broker('heygen-streaming'), (path, a) => {
      if (path.endsWith('/session') && a.json?.closeUrl) delete a.json.closeUrl;
      return a;
    });
    const results = await runConformance({ endpoint, origin: ORIGIN, world: view, browser: false, only: ['schema'] });
    // The widget could not report that session closed either: it stays open until reaped.
    assert.deepEqual(failedIds(results), ['schema', 'no-open-sessions'], results.map(formatResult).join('\n'));
    assert.match(byId(results).schema.detail!, /must have required property 'closeUrl'/);
  });

  it('an endpoint that never stops sessions fails both closes and leaves them open', async () => {
    const endpoint = await brokenEndpoint(await broker('liveavatar'), (_path, a) => a, /\/session\/close$/);
    const results = await runConformance({ endpoint, origin: ORIGIN, world: view, browser: false, only: ['schema', 'close-beacon', 'close-json'] });
    assert.deepEqual(failedIds(results), ['close-beacon', 'close-json', 'no-open-sessions'], results.map(formatResult).join('\n'));
    assert.match(byId(results)['close-json'].detail!, /^the liveavatar session .* is still open after the close/);
    assert.match(byId(results)['no-open-sessions'].detail!, /^still open after their close: liveavatar /);
  });

  it('an endpoint that calls the service\'s "already closed" a failure fails the close after the browser stopped the session', async () => {
    const endpoint = await brokenEndpoint(await broker('heygen-streaming'), async (path, a, body) => {
      if (!path.endsWith('/session/close')) return a;
      const { sessionId } = JSON.parse(body);
      // What a naive back end does: its stop call fails for a session that is gone, and it passes that on.
      return { status: 502, headers: a.headers, json: { error: { code: 'upstream_error', message: `the avatar service refused to stop ${sessionId}` } } };
    });
    const results = await runConformance({ endpoint, origin: ORIGIN, world: view, browser: false, only: ['close-after-stop'] });
    assert.ok(failedIds(results).includes('close-after-stop'), results.map(formatResult).join('\n'));
    assert.match(byId(results)['close-after-stop'].detail!, /^the close answered HTTP 502 .*treat the service's "already closed" as success/);
  });

  it('an endpoint that buffers the LLM stream fails the SSE check', async () => {
    // The proxy reads the whole answer before it answers: the SSE arrives in one piece.
    const endpoint = await brokenEndpoint(await broker('heygen-streaming'), (_path, a) => a);
    const results = await runConformance({ endpoint, origin: ORIGIN, world: view, browser: false, only: ['schema', 'llm-sse'] });
    assert.deepEqual(failedIds(results), ['llm-sse'], results.map(formatResult).join('\n'));
    assert.match(byId(results)['llm-sse'].detail!, /the stream is buffered/);
  });
});
