// `POST /llm`: the broker's default LLM route, for an open session. The conversation goes to the
// configured model and its reply streams back as SSE; every call counts as a sign of life.
import { BrokerHttpError, ClientGoneError } from '../errors.js';
import { bearer, readJsonObject } from '../http.js';
import { openLlmStream } from '../upstreams/llm.js';
import { validateLlmRequest } from '../validate.js';
import type { RouteHandler } from './context.js';

export const llmRoute: RouteHandler = async (req, ctx, { config, ledger, rateLimit, log, redact }) => {
  const llm = config.llm!;
  const record = await ledger.authorize(bearer(req));
  // Every call takes a token when it arrives: the widget's preemptive calls too, aborted or not
  // (at most two calls a turn; docs/broker.md, `POST /llm`).
  await rateLimit('llm', ctx.client, config.rateLimits.llm, ctx.client);
  const messages = validateLlmRequest(await readJsonObject(req, config.maxLlmBodyBytes, ['application/json']), llm);
  const t0 = config.now();
  let stream: ReadableStream<Uint8Array>;
  try {
    stream = await openLlmStream(llm, messages, req.signal, redact, (outcome) => {
      log(outcome.result === 'error' ? 'warn' : 'info', 'llm_stream', {
        sessionId: record.sessionId,
        client: ctx.client,
        provider: llm.provider,
        model: llm.model,
        result: outcome.result,
        deltas: outcome.deltas,
        chars: outcome.chars,
        ...(outcome.firstDeltaMs !== undefined ? { firstDeltaMs: outcome.firstDeltaMs } : {}),
        ms: config.now() - t0,
        ...(outcome.error ? { upstream: outcome.error.logFields(redact) } : {}),
      });
    });
  } catch (err) {
    if (err instanceof ClientGoneError) {
      log('info', 'llm_stream', { sessionId: record.sessionId, client: ctx.client, result: 'client_gone', deltas: 0 });
      throw new BrokerHttpError('bad_request', 'the client went away');
    }
    throw err;
  }
  return new Response(stream, {
    status: 200,
    headers: {
      ...ctx.cors,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      'x-accel-buffering': 'no',
    },
  });
};
