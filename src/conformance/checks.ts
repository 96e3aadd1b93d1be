// The conformance kit's checks, in the order they run: each says in one line what a back end must
// do (docs/broker.md, "The JSON contract") and answers a problem, or nothing when the endpoint
// does it. Later checks lean on earlier ones (the first session, the rate limit spent last).
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import type { LlmRouteEvent, SessionResponse } from '../shared/contract.js';
import { readSse } from '../shared/sse.js';
import { errorProblem, waitOutRateLimit, type Answer, type EndpointClient } from './client.js';
import { schemaProblems } from './schema.js';
import type { WorldView } from './world.js';

/** What the checks share. */
export interface KitContext {
  client: EndpointClient;
  world: WorldView;
  /** The first session (made by the schema check), used until `close (text/plain)` closes it. */
  session?: SessionResponse;
  sessionAnswer?: Answer;
  /** Every session the kit was handed, by id, with its provider: all must be stopped in the end. */
  opened: Map<string, SessionResponse>;
  /** Runs the real browser session; absent with `--no-browser`. */
  browserSession?: (ctx: KitContext) => Promise<string | undefined>;
}

/** A check's verdict: a problem, `{skip}` when it does not apply, or nothing when it passes. */
export type Verdict = string | { skip: string } | undefined;

export interface Check {
  id: string;
  title: string;
  run(ctx: KitContext): Promise<Verdict>;
}

/** An origin no endpoint allows. */
const FOREIGN_ORIGIN = 'https://not-allowed.conformance.invalid';
/** Refusals of a session beyond the caps. */
const CAP_CODES = ['too_many_sessions', 'over_capacity'];
/** Sessions the concurrency check opens at the most before it gives up on a cap. */
const MAX_CONCURRENT_TRIED = 12;
/** Requests the rate-limit check sends at the most before it gives up on a 429. */
const MAX_RATE_TRIED = 300;

/** Takes note of a session the endpoint handed out. */
function opened(ctx: KitContext, a: Answer): SessionResponse | undefined {
  const s = a.status === 200 ? (a.json as SessionResponse | undefined) : undefined;
  if (s?.sessionId) ctx.opened.set(s.sessionId, s);
  return s;
}

async function newSession(ctx: KitContext): Promise<SessionResponse> {
  const a = await ctx.client.postSession('{}');
  const s = opened(ctx, a);
  if (!s) throw new Error(`the session request answered HTTP ${a.status}: ${a.text.slice(0, 300)}`);
  return s;
}

/** Waits until the avatar service has the session stopped; false if it is still open after `ms`. */
export async function stoppedWithin(ctx: KitContext, s: SessionResponse, ms = 8000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (!(await ctx.world.isOpen(s.avatar.provider, s.sessionId))) return true;
    if (Date.now() > end) return false;
    await sleep(100);
  }
}

function needSession(ctx: KitContext): SessionResponse {
  if (!ctx.session) throw new Error('no session to test with (the first check could not make one)');
  return ctx.session;
}

/** An absolute http(s) URL, or a path the browser resolves against the page (same-origin only). */
function urlProblem(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/^https?:\/\/[^/]/.test(value)) return undefined;
  if (value.startsWith('/') && !value.startsWith('//')) return undefined;
  return `${name} ${JSON.stringify(value)} is neither an absolute http(s) URL nor a path from the root (the browser resolves it against the page)`;
}

/** Opens Deepgram's live socket with a temporary token as the widget does (subprotocols bearer + token). */
function sttSocketProblem(sttUrl: string, token: string): Promise<string | undefined> {
  const url = `${sttUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}/v1/listen?model=nova-2&language=en&encoding=linear16&sample_rate=16000&channels=1`;
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['bearer', token]);
    const timer = setTimeout(() => {
      ws.terminate();
      resolve(`the STT socket at ${url} did not open within 5 s`);
    }, 5000);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.close();
      resolve(undefined);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve(`Deepgram refused the token: HTTP ${res.statusCode} (is stt.token a fresh /v1/auth/grant token, and stt.url Deepgram's API base?)`);
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      resolve(`the STT socket failed: ${err.message}`);
    });
  });
}

/** The avatar service's own stop, called with the session token as the widget calls it when it stops. */
async function stopAsBrowser(s: SessionResponse): Promise<void> {
  const a = s.avatar as SessionResponse['avatar'];
  const [path, body] =
    a.provider === 'liveavatar' ? ['/v1/sessions/stop', { session_id: s.sessionId, reason: 'USER_CLOSED' }] : ['/v1/streaming.stop', { session_id: s.sessionId }];
  const res = await fetch(`${a.apiBase}${path}`, { method: 'POST', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`stopping the session with its token at ${a.apiBase}${path} answered HTTP ${res.status} (is avatar.token the session token?)`);
}

/** Reads an LLM-route answer as SSE, with the arrival time of each event; records the text for the key scan. */
async function readLlmStream(ctx: KitContext, res: Response, abortAfterFirstDelta?: AbortController): Promise<{ events: { e: LlmRouteEvent | undefined; data: string; at: number }[] }> {
  const events: { e: LlmRouteEvent | undefined; data: string; at: number }[] = [];
  let text = '';
  try {
    for await (const ev of readSse(res.body!)) {
      text += `data: ${ev.data}\n\n`;
      let e: LlmRouteEvent | undefined;
      try {
        e = JSON.parse(ev.data);
      } catch {
        e = undefined;
      }
      events.push({ e, data: ev.data, at: performance.now() });
      if (abortAfterFirstDelta && e?.type === 'delta') {
        abortAfterFirstDelta.abort();
        break;
      }
    }
  } catch (err) {
    if (!abortAfterFirstDelta?.signal.aborted) throw err;
  } finally {
    ctx.client.record('POST llm (stream)', res, text);
  }
  return { events };
}

function llmRequest(ctx: KitContext, s: SessionResponse, content: string, signal?: AbortSignal): Promise<Response> {
  return fetch(ctx.client.url(s.llm!.url), {
    method: 'POST',
    headers: { origin: ctx.client.origin, authorization: `Bearer ${s.sessionKey}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ messages: [{ role: 'user', content }] }),
    ...(signal ? { signal } : {}),
  });
}

/** Words the LLM stand-in streams for the SSE checks. */
const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i + 1}`).join(' ') + '.';

export const CHECKS: Check[] = [
  {
    id: 'schema',
    title: 'session: the answer matches the contract schema; its URLs are usable; sessionId is the avatar service’s open session',
    async run(ctx) {
      const a = await ctx.client.postSession('{}');
      const s = opened(ctx, a);
      if (a.status !== 200) return `POST session answered HTTP ${a.status}: ${a.text.slice(0, 300)}`;
      if (!/^application\/json/i.test(a.headers.get('content-type') ?? '')) return `the answer's Content-Type is ${a.headers.get('content-type')}, not application/json`;
      const problems = schemaProblems('SessionResponse', a.json);
      if (problems.length) return `not the contract's SessionResponse: ${problems.slice(0, 6).join('; ')}`;
      ctx.session = s;
      ctx.sessionAnswer = a;
      const urls = [
        urlProblem('closeUrl', s!.closeUrl),
        urlProblem('stt.refreshUrl', s!.stt.refreshUrl),
        urlProblem('heartbeat.url', s!.heartbeat?.url),
        urlProblem('llm.url', s!.llm?.url),
      ].filter(Boolean);
      if (urls.length) return urls.join('; ');
      if (!(await ctx.world.isOpen(s!.avatar.provider, s!.sessionId))) {
        return `sessionId ${JSON.stringify(s!.sessionId)} is not an open session at the ${s!.avatar.provider} service (it must be the service's session_id)`;
      }
      return undefined;
    },
  },
  {
    id: 'cors',
    title: 'CORS: the allowed origin gets Access-Control-Allow-Origin (never with credentials); preflights allow content-type and authorization',
    async run(ctx) {
      const s = needSession(ctx);
      const { client } = ctx;
      const allowed = (h: Headers) => h.get('access-control-allow-origin') === client.origin || h.get('access-control-allow-origin') === '*';
      if (!allowed(ctx.sessionAnswer!.headers)) return `the session answer's Access-Control-Allow-Origin is ${JSON.stringify(ctx.sessionAnswer!.headers.get('access-control-allow-origin'))}, not ${client.origin}`;
      if (ctx.sessionAnswer!.headers.get('access-control-allow-credentials') === 'true') return 'the answer allows credentials (Access-Control-Allow-Credentials: true): the contract uses none';
      for (const [url, header] of [
        [client.endpoint, 'content-type'],
        [client.url(s.stt.refreshUrl), 'authorization'],
      ]) {
        const a = await client.send('OPTIONS (preflight)', url, {
          method: 'OPTIONS',
          headers: { origin: client.origin, 'access-control-request-method': 'POST', 'access-control-request-headers': header },
        });
        if (a.status < 200 || a.status > 299) return `the preflight of ${url} answered HTTP ${a.status}`;
        if (!allowed(a.headers)) return `the preflight of ${url} has no Access-Control-Allow-Origin for ${client.origin}`;
        if (!(a.headers.get('access-control-allow-headers') ?? '').toLowerCase().includes(header)) return `the preflight of ${url} does not allow the ${header} header`;
        if (!/\bPOST\b/i.test(a.headers.get('access-control-allow-methods') ?? '')) return `the preflight of ${url} does not allow POST`;
      }
      return undefined;
    },
  },
  {
    id: 'bad-request',
    title: 'session: a bad field, an unknown field and a body that is not JSON are refused (400)',
    async run(ctx) {
      const cases: [string, string[]][] = [
        ['{"quality":"ultra"}', ['bad_request']],
        ['{"avatarID":"x"}', ['bad_request']],
        ['{"voiceRate":"fast"}', ['bad_request']],
        ['this is not json', ['invalid_json', 'bad_request']],
      ];
      for (const [body, codes] of cases) {
        const a = await ctx.client.postSession(body);
        opened(ctx, a);
        const problem = errorProblem(a, 400, codes);
        if (problem) return `${body}: ${problem}`;
      }
      return undefined;
    },
  },
  {
    id: 'stt-refresh',
    title: 'STT refresh: a fresh Deepgram token for the session key (it opens /v1/listen); 401 without or with a wrong key',
    async run(ctx) {
      const s = needSession(ctx);
      const first = await sttSocketProblem(s.stt.url, s.stt.token);
      if (first) return `the session answer's stt.token: ${first}`;
      for (const key of [undefined, `${s.sessionKey}x`]) {
        const problem = errorProblem(await ctx.client.withKey('POST stt-token', s.stt.refreshUrl, key), 401, ['unauthorized']);
        if (problem) return `${key ? 'a wrong' : 'no'} session key: ${problem}`;
      }
      const a = await ctx.client.withKey('POST stt-token', s.stt.refreshUrl, s.sessionKey);
      if (a.status !== 200) return `the refresh answered HTTP ${a.status}: ${a.text.slice(0, 200)}`;
      const problems = schemaProblems('SttTokenResponse', a.json);
      if (problems.length) return `not the contract's SttTokenResponse: ${problems.join('; ')}`;
      if (a.json.token === s.stt.token) return 'the refresh answered the same token as the session answer (it must mint a new one)';
      return sttSocketProblem(s.stt.url, a.json.token);
    },
  },
  {
    id: 'heartbeat',
    title: 'heartbeat: offered in the answer; 2xx with the session key, 401 without',
    async run(ctx) {
      const s = needSession(ctx);
      if (!s.heartbeat) {
        return 'the answer has no heartbeat: the widget then sends none, and a back end that stops silent sessions (it must) stops live ones';
      }
      const ok = await ctx.client.withKey('POST heartbeat', s.heartbeat.url, s.sessionKey);
      if (ok.status < 200 || ok.status > 299) return `the heartbeat answered HTTP ${ok.status}: ${ok.text.slice(0, 200)}`;
      return errorProblem(await ctx.client.withKey('POST heartbeat', s.heartbeat.url, undefined), 401, ['unauthorized']);
    },
  },
  {
    id: 'llm-sse',
    title: 'LLM route: SSE deltas as the model writes them (not buffered), then one done; 401 without the session key',
    async run(ctx) {
      const s = needSession(ctx);
      if (!s.llm) return { skip: 'the endpoint offers no LLM route (no "llm" in the answer)' };
      const refused = await ctx.client.withKey('POST llm', s.llm.url, undefined, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) });
      const authProblem = errorProblem(refused, 401, ['unauthorized']);
      if (authProblem) return `no session key: ${authProblem}`;
      const reply = words(30);
      const tokensPerSecond = 20;
      const restore = await ctx.world.configureLlm({ ttftMs: 100, tokensPerSecond, replies: [{ match: 'conformance-stream', reply }] });
      try {
        const t0 = performance.now();
        const res = await llmRequest(ctx, s, 'conformance-stream: please count');
        if (res.status !== 200) return `the LLM route answered HTTP ${res.status}: ${ctx.client.record('POST llm', res, await res.text()).text.slice(0, 200)}`;
        if (!/^text\/event-stream/i.test(res.headers.get('content-type') ?? '')) return `Content-Type ${res.headers.get('content-type')}, not text/event-stream`;
        const { events } = await readLlmStream(ctx, res);
        const bad = events.find((x) => !x.e || schemaProblems('LlmRouteEvent', x.e).length);
        if (bad) return `an event is not an LlmRouteEvent: data: ${bad.data.slice(0, 200)}`;
        const ends = events.filter((x) => x.e!.type !== 'delta');
        if (ends.length !== 1 || events.at(-1)!.e!.type !== 'done') return `the stream must end with exactly one {"type":"done"}; it ended with ${events.at(-1)?.data ?? 'nothing'} (${ends.length} end events)`;
        const deltas = events.filter((x) => x.e!.type === 'delta');
        const text = deltas.map((x) => (x.e as { text: string }).text).join('');
        if (text.trim() !== reply) return `the deltas say ${JSON.stringify(text.slice(0, 80))}…, not the model's reply`;
        // The stand-in writes for (30 - 1) / 20 s after its first word: a buffered stream arrives at once.
        const spread = deltas.at(-1)!.at - deltas[0].at;
        const nominal = ((30 - 1) / tokensPerSecond) * 1000;
        if (spread < nominal * 0.5) return `the deltas arrived within ${Math.round(spread)} ms of each other, the model took ${nominal} ms: the stream is buffered (disable output buffering and flush after each event)`;
        if (deltas[0].at - t0 > nominal) return `the first delta took ${Math.round(deltas[0].at - t0)} ms`;
        return undefined;
      } finally {
        await restore();
      }
    },
  },
  {
    id: 'llm-abort',
    title: 'LLM route: when the browser aborts the stream, the request to the model is aborted too',
    async run(ctx) {
      const s = needSession(ctx);
      if (!s.llm) return { skip: 'the endpoint offers no LLM route' };
      const marker = `conformance-abort-${Date.now()}`;
      const restore = await ctx.world.configureLlm({ ttftMs: 100, tokensPerSecond: 10, replies: [{ match: marker, reply: words(80) }] });
      try {
        const abort = new AbortController();
        const res = await llmRequest(ctx, s, `${marker}: please count`, abort.signal);
        if (res.status !== 200) return `the LLM route answered HTTP ${res.status}`;
        const { events } = await readLlmStream(ctx, res, abort);
        if (!events.some((x) => x.e?.type === 'delta')) return 'no delta arrived before the stream ended';
        const end = Date.now() + 4000;
        for (;;) {
          const call = (await ctx.world.llmCalls()).filter((c) => c.messages.at(-1)?.text.includes(marker)).at(-1);
          if (!call) return 'the LLM stand-in saw no request for this turn';
          if (call.status === 'disconnected') return undefined;
          if (call.status !== 'generating') return `the model's request ended as "${call.status}" after the browser had gone (it should have been aborted)`;
          if (Date.now() > end) return 'the request to the model was still running 4 s after the browser aborted (stop reading the model when the client is gone)';
          await sleep(100);
        }
      } finally {
        await restore();
      }
    },
  },
  {
    id: 'body-limit',
    title: 'body limits: a 2 MiB session request (and LLM request) is refused with 413',
    async run(ctx) {
      const { client } = ctx;
      const big = JSON.stringify({ avatarId: 'x'.repeat(2 * 1024 * 1024) });
      const a = await waitOutRateLimit(() => client.sendAlone('POST session (2 MiB)', client.endpoint, { origin: client.origin, 'content-type': 'application/json' }, big));
      opened(ctx, a);
      const problem = errorProblem(a, 413, ['payload_too_large']);
      if (problem) return `session: ${problem}`;
      const s = needSession(ctx);
      if (!s.llm) return undefined;
      const llm = await client.sendAlone(
        'POST llm (2 MiB)',
        client.url(s.llm.url),
        { origin: client.origin, authorization: `Bearer ${s.sessionKey}`, 'content-type': 'application/json' },
        JSON.stringify({ messages: [{ role: 'user', content: 'y'.repeat(2 * 1024 * 1024) }] }),
      );
      const llmProblem = errorProblem(llm, 413, ['payload_too_large']);
      return llmProblem ? `LLM route: ${llmProblem}` : undefined;
    },
  },
  {
    id: 'close-beacon',
    title: 'close as a text/plain beacon: 200 {"closed":true}, the avatar session stopped, the session key refused afterwards',
    async run(ctx) {
      const s = needSession(ctx);
      const a = await ctx.client.close(s, 'text/plain');
      if (a.status !== 200 || a.json?.closed !== true) return `the close answered HTTP ${a.status} ${a.text.slice(0, 200)} (expected 200 {"closed":true})`;
      if (!(await stoppedWithin(ctx, s))) return `the ${s.avatar.provider} session ${s.sessionId} is still open after the close: it is billed until stopped`;
      ctx.session = undefined;
      return errorProblem(await ctx.client.withKey('POST stt-token', s.stt.refreshUrl, s.sessionKey), 401, ['unauthorized']);
    },
  },
  {
    id: 'close-json',
    title: 'close as application/json: 200 {"closed":true}, the avatar session stopped',
    async run(ctx) {
      const s = await newSession(ctx);
      const a = await ctx.client.close(s, 'application/json');
      if (a.status !== 200 || a.json?.closed !== true) return `the close answered HTTP ${a.status} ${a.text.slice(0, 200)} (expected 200 {"closed":true})`;
      if (!(await stoppedWithin(ctx, s))) return `the ${s.avatar.provider} session ${s.sessionId} is still open after the close`;
      return undefined;
    },
  },
  {
    id: 'close-after-stop',
    title: 'close after the browser already stopped the session: 200 {"closed":true}; the second report (beacon + keepalive) answers 200 or 404',
    async run(ctx) {
      const s = await newSession(ctx);
      await stopAsBrowser(s);
      const a = await ctx.client.close(s, 'text/plain');
      if (a.status !== 200 || a.json?.closed !== true) {
        return `the close answered HTTP ${a.status} ${a.text.slice(0, 200)}: a session the browser stopped already is closed, not an error (treat the service's "already closed" as success)`;
      }
      const again = await ctx.client.close(s, 'text/plain');
      if (again.status === 200 && again.json?.closed === true) return undefined;
      if (!errorProblem(again, 404, ['not_found'])) return undefined;
      return `the second close answered HTTP ${again.status} ${again.text.slice(0, 200)} (expected 200 {"closed":true} or 404 not_found)`;
    },
  },
  {
    id: 'origin',
    title: 'origin: a foreign origin, and a request without Origin, are refused with 403 forbidden_origin and no CORS grant',
    async run(ctx) {
      const { client } = ctx;
      const foreign = await client.postSession('{}', { origin: FOREIGN_ORIGIN }, false);
      opened(ctx, foreign);
      const problem = errorProblem(foreign, 403, ['forbidden_origin']);
      if (problem) return `from ${FOREIGN_ORIGIN}: ${problem}`;
      if (['*', FOREIGN_ORIGIN].includes(foreign.headers.get('access-control-allow-origin') ?? '')) return 'the refusal still grants the foreign origin (Access-Control-Allow-Origin)';
      const preflight = await client.send('OPTIONS (foreign preflight)', client.endpoint, {
        method: 'OPTIONS',
        headers: { origin: FOREIGN_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      if (['*', FOREIGN_ORIGIN].includes(preflight.headers.get('access-control-allow-origin') ?? '')) return 'the preflight from a foreign origin is granted';
      const none = await client.send('POST session (no Origin)', client.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      opened(ctx, none);
      const noneProblem = errorProblem(none, 403, ['forbidden_origin']);
      return noneProblem ? `without Origin: ${noneProblem}` : undefined;
    },
  },
  {
    id: 'concurrency',
    title: 'concurrency cap: sessions beyond the cap are refused (429 too_many_sessions or 503 over_capacity, with Retry-After)',
    async run(ctx) {
      const mine: SessionResponse[] = [];
      try {
        for (let i = 0; i < MAX_CONCURRENT_TRIED; i++) {
          const a = await ctx.client.postSession('{}');
          const s = opened(ctx, a);
          if (s) {
            mine.push(s);
            continue;
          }
          const problem = errorProblem(a, [429, 503], CAP_CODES);
          if (problem) return problem;
          if (!(Number(a.headers.get('retry-after')) > 0)) return `the refusal (${a.json.error.code}) has no Retry-After`;
          return mine.length === 0 ? 'the first session was refused: something else holds every slot' : undefined;
        }
        return `${MAX_CONCURRENT_TRIED} sessions at once from one client were all granted: cap the sessions per client and in all`;
      } finally {
        for (const s of mine) await ctx.client.close(s);
      }
    },
  },
  {
    id: 'browser',
    title: 'a real browser session through the built widget: start → spoken question → reply → avatar talking → stop → session stopped',
    async run(ctx) {
      if (!ctx.browserSession) return { skip: 'not run (--no-browser)' };
      return ctx.browserSession(ctx);
    },
  },
  {
    id: 'rate-limit',
    title: 'rate limit: a burst of session requests ends in 429 rate_limited with Retry-After',
    async run(ctx) {
      for (let sent = 0; sent < MAX_RATE_TRIED; sent += 10) {
        const answers = await Promise.all(Array.from({ length: 10 }, () => ctx.client.postSession('{"quality":"ultra"}', {}, false)));
        answers.forEach((a) => opened(ctx, a));
        const limited = answers.find((a) => a.status === 429);
        if (!limited) continue;
        const problem = errorProblem(limited, 429, ['rate_limited']);
        if (problem) return problem;
        return Number(limited.headers.get('retry-after')) > 0 ? undefined : 'the 429 has no Retry-After (seconds)';
      }
      return `${MAX_RATE_TRIED} session requests in a burst from one client were all answered: limit the rate per client`;
    },
  },
  {
    id: 'no-open-sessions',
    title: 'no session left open: every avatar session the endpoint handed out is stopped at the service once closed',
    async run(ctx) {
      const open: string[] = [];
      for (const s of ctx.opened.values()) {
        // What a check left open (or a filtered run never closed) is closed now, as the widget would.
        if (await ctx.world.isOpen(s.avatar.provider, s.sessionId)) await ctx.client.close(s).catch(() => undefined);
        if (!(await stoppedWithin(ctx, s, 3000))) open.push(`${s.avatar.provider} ${s.sessionId}`);
      }
      return open.length ? `still open after their close: ${open.join(', ')}` : undefined;
    },
  },
  {
    id: 'key-scan',
    title: 'key scan: no API key (nor its last 12 characters) in any answer, headers or body',
    async run(ctx) {
      const leaks: string[] = [];
      for (const r of ctx.client.answers) {
        const text = `${r.body}\n${r.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}`;
        for (const [name, key] of Object.entries(ctx.world.keys)) {
          if (text.includes(key.slice(-12))) leaks.push(`the ${name} key in ${r.what} (HTTP ${r.status})`);
        }
      }
      return leaks.length ? [...new Set(leaks)].join('; ') : undefined;
    },
  },
];
