// The broker's default LLM route: the conversation goes to Gemini or OpenAI (streaming), and the
// reply comes back to the browser as SSE `data: <LlmRouteEvent>` events. Upstream failures become
// a BrokerError before the stream starts, or an `error` event after; upstream bodies never pass.
import { readSse } from '../../shared/sse.js';
import type { LlmRouteEvent, LlmRouteRequest } from '../../shared/contract.js';
import type { ResolvedBrokerConfig } from '../config.js';
import { ClientGoneError, UpstreamError, parseRetryAfter } from '../errors.js';
import type { Redact } from './http-json.js';

type LlmConfig = NonNullable<ResolvedBrokerConfig['llm']>;
type Messages = LlmRouteRequest['messages'];

/** How a stream ended, for the log. */
export interface LlmOutcome {
  result: 'done' | 'error' | 'client_gone';
  deltas: number;
  chars: number;
  /** ms from the request to the first delta. */
  firstDeltaMs?: number;
  error?: UpstreamError;
}

/** The upstream request for the configured provider. */
export function upstreamRequest(cfg: LlmConfig, messages: Messages): { url: string; init: RequestInit } {
  if (cfg.provider === 'gemini') {
    // Gemini wants turns that start with the user's and alternate: drop a leading model turn, merge neighbours.
    const contents: { role: 'user' | 'model'; parts: { text: string }[] }[] = [];
    for (const m of messages) {
      const role = m.role === 'assistant' ? 'model' : 'user';
      const last = contents[contents.length - 1];
      if (!last && role === 'model') continue;
      if (last?.role === role) last.parts[0].text += `\n\n${m.content}`;
      else contents.push({ role, parts: [{ text: m.content }] });
    }
    const body = {
      contents,
      ...(cfg.systemPrompt ? { systemInstruction: { parts: [{ text: cfg.systemPrompt }] } } : {}),
      generationConfig: { maxOutputTokens: cfg.maxOutputTokens, thinkingConfig: { thinkingBudget: 0 } },
    };
    return {
      url: `${cfg.apiBase}/v1beta/models/${encodeURIComponent(cfg.model)}:streamGenerateContent?alt=sse`,
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-goog-api-key': cfg.apiKey },
        body: JSON.stringify(body),
      },
    };
  }
  const body = {
    model: cfg.model,
    stream: true,
    max_tokens: cfg.maxOutputTokens,
    messages: [...(cfg.systemPrompt ? [{ role: 'system', content: cfg.systemPrompt }] : []), ...messages.map((m) => ({ role: m.role, content: m.content }))],
  };
  return {
    url: `${cfg.apiBase}/v1/chat/completions`,
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${cfg.apiKey}` },
      body: JSON.stringify(body),
    },
  };
}

/**
 * Starts the upstream request and waits for its answer headers. Rejects with an UpstreamError
 * (mapped by the caller to a BrokerError status) or a ClientGoneError. Resolves with the SSE
 * stream for the browser; `onEnd` reports how it ended.
 */
export async function openLlmStream(
  cfg: LlmConfig,
  messages: Messages,
  clientSignal: AbortSignal,
  redact: Redact,
  onEnd: (outcome: LlmOutcome) => void,
): Promise<ReadableStream<Uint8Array>> {
  const started = performance.now();
  const upstream = new AbortController();
  let timedOut = false;
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      upstream.abort();
    }, cfg.timeoutMs);
    idle.unref?.();
  };
  const onClientAbort = () => upstream.abort();
  clientSignal.addEventListener('abort', onClientAbort, { once: true });
  const cleanup = () => {
    clearTimeout(idle);
    clientSignal.removeEventListener('abort', onClientAbort);
  };
  const service = cfg.provider;
  const operation = cfg.provider === 'gemini' ? 'streamGenerateContent' : 'chat.completions';

  const { url, init } = upstreamRequest(cfg, messages);
  armIdle();
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: upstream.signal, redirect: 'error' });
  } catch (err) {
    cleanup();
    if (clientSignal.aborted) throw new ClientGoneError();
    if (timedOut) throw new UpstreamError(service, operation, 'timeout');
    throw new UpstreamError(service, operation, 'network', 0, undefined, redact(String((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message)));
  }
  if (!res.ok || !res.body) {
    let text = '';
    try {
      text = await res.text();
    } catch {
      // the status says enough
    }
    cleanup();
    if (clientSignal.aborted) throw new ClientGoneError();
    const { code, message, keyInvalid } = llmErrorFields(text);
    throw new UpstreamError(service, operation, 'status', keyInvalid ? 401 : res.status, code, redact(message ?? text), parseRetryAfter(res.headers.get('retry-after')));
  }

  const outcome: LlmOutcome = { result: 'done', deltas: 0, chars: 0 };
  const encoder = new TextEncoder();
  const frame = (e: LlmRouteEvent) => encoder.encode(`data: ${JSON.stringify(e)}\n\n`);
  const events = relay(cfg.provider, readSse(res.body, upstream.signal), outcome, armIdle, () => ({ timedOut, clientGone: clientSignal.aborted }), redact);
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    cleanup();
    upstream.abort();
    if (outcome.deltas > 0 && outcome.firstDeltaMs !== undefined) outcome.firstDeltaMs = Math.round(outcome.firstDeltaMs - started);
    onEnd(outcome);
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await events.next();
        if (next.done) {
          finish();
          controller.close();
          return;
        }
        controller.enqueue(frame(next.value));
      } catch (err) {
        // relay() turns every failure into an error event; this is a bug, not an upstream failure.
        outcome.result = 'error';
        finish();
        controller.error(err);
      }
    },
    async cancel() {
      outcome.result = 'client_gone';
      upstream.abort();
      await events.return(undefined).catch(() => undefined);
      finish();
    },
  });
}

/** Upstream SSE events → LlmRouteEvents, ending with exactly one `done` or `error`. */
async function* relay(
  provider: 'gemini' | 'openai',
  source: AsyncGenerator<{ data: string }>,
  outcome: LlmOutcome,
  alive: () => void,
  why: () => { timedOut: boolean; clientGone: boolean },
  redact: Redact,
): AsyncGenerator<LlmRouteEvent> {
  const operation = provider === 'gemini' ? 'streamGenerateContent' : 'chat.completions';
  const fail = (message: string, recoverable: boolean, error: UpstreamError): LlmRouteEvent => {
    outcome.result = 'error';
    outcome.error = error;
    return { type: 'error', message, recoverable };
  };
  let finished = false;
  let stopReason: string | undefined;
  try {
    for await (const event of source) {
      alive();
      if (provider === 'openai' && event.data.trim() === '[DONE]') {
        finished = true;
        break;
      }
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        yield fail('the language model sent something unreadable', true, new UpstreamError(provider, operation, 'bad_response', 200, undefined, 'event is not JSON'));
        return;
      }
      const piece = provider === 'gemini' ? geminiPiece(json) : openaiPiece(json);
      if (piece.error) {
        yield fail('the language model failed while answering', true, new UpstreamError(provider, operation, 'status', 200, piece.error.code, redact(piece.error.message)));
        return;
      }
      if (piece.text) {
        if (outcome.deltas === 0) outcome.firstDeltaMs = performance.now();
        outcome.deltas++;
        outcome.chars += piece.text.length;
        yield { type: 'delta', text: piece.text };
      }
      if (piece.stop) stopReason = piece.stop;
    }
  } catch (err) {
    if (why().clientGone) {
      outcome.result = 'client_gone';
      return;
    }
    yield fail('the connection to the language model broke', true, new UpstreamError(provider, operation, 'network', 200, undefined, redact((err as Error).message)));
    return;
  }
  const { timedOut, clientGone } = why();
  if (clientGone) {
    outcome.result = 'client_gone';
    return;
  }
  if (timedOut) {
    yield fail('the language model stopped answering', true, new UpstreamError(provider, operation, 'timeout'));
    return;
  }
  if (stopReason && BLOCKED.has(stopReason)) {
    yield fail(`the language model declined to answer (${stopReason.toLowerCase()})`, true, new UpstreamError(provider, operation, 'bad_response', 200, stopReason));
    return;
  }
  // Gemini ends its stream without a marker; OpenAI's ends with [DONE] or a finish_reason.
  if (provider === 'openai' && !finished && !stopReason) {
    yield fail('the language model stream ended early', true, new UpstreamError(provider, operation, 'bad_response', 200, undefined, 'no [DONE]'));
    return;
  }
  yield { type: 'done' };
}

const BLOCKED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'LANGUAGE', 'OTHER', 'content_filter']);

interface Piece {
  text?: string;
  stop?: string;
  error?: { code?: string | number; message: string };
}

function geminiPiece(json: unknown): Piece {
  const o = json as {
    candidates?: { content?: { parts?: { text?: unknown; thought?: unknown }[] }; finishReason?: unknown }[];
    promptFeedback?: { blockReason?: unknown };
    error?: { code?: unknown; message?: unknown };
  };
  if (o?.error) return { error: { code: typeof o.error.code === 'number' ? o.error.code : undefined, message: String(o.error.message ?? '') } };
  if (typeof o?.promptFeedback?.blockReason === 'string') return { stop: o.promptFeedback.blockReason === 'OTHER' ? 'OTHER' : o.promptFeedback.blockReason };
  const c = o?.candidates?.[0];
  const text = (c?.content?.parts ?? [])
    .filter((p) => typeof p.text === 'string' && p.thought !== true)
    .map((p) => p.text as string)
    .join('');
  return { ...(text ? { text } : {}), ...(typeof c?.finishReason === 'string' ? { stop: c.finishReason } : {}) };
}

function openaiPiece(json: unknown): Piece {
  const o = json as { choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[]; error?: { code?: unknown; message?: unknown } };
  if (o?.error) return { error: { code: typeof o.error.code === 'string' ? o.error.code : undefined, message: String(o.error.message ?? '') } };
  const c = o?.choices?.[0];
  const text = typeof c?.delta?.content === 'string' ? c.delta.content : '';
  return { ...(text ? { text } : {}), ...(typeof c?.finish_reason === 'string' ? { stop: c.finish_reason } : {}) };
}

/** Code and message of a Google or OpenAI error body; `keyInvalid` for Google's 400 API_KEY_INVALID. */
function llmErrorFields(text: string): { code?: string | number; message?: string; keyInvalid: boolean } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { keyInvalid: false };
  }
  const first = Array.isArray(json) ? json[0] : json;
  const e = (first as { error?: { code?: unknown; message?: unknown; status?: unknown; details?: { reason?: unknown }[] } })?.error;
  if (!e || typeof e !== 'object') return { keyInvalid: false };
  const keyInvalid = Array.isArray(e.details) && e.details.some((d) => d?.reason === 'API_KEY_INVALID');
  const code = typeof e.code === 'number' || typeof e.code === 'string' ? e.code : typeof e.status === 'string' ? e.status : undefined;
  return { ...(code !== undefined ? { code } : {}), ...(typeof e.message === 'string' ? { message: e.message } : {}), keyInvalid };
}
