// Contract tests of the offline LLM stand-in: Gemini's generateContent / streamGenerateContent and
// OpenAI's chat completions, read with a real fetch and the widget's own SSE reader; the clock
// (time to first token, token pacing), scripted replies, the call log, faults, disconnects, auth.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SseParser, readSse } from '../../src/shared/sse.js';
import { splitSentences } from '../../src/conversation/sentences.js';
import {
  BUILT_IN_REPLIES,
  LLM_BODY_LIMIT_BYTES,
  defaultReply,
  questionLanguage,
  splitTokens,
  startLlmStandIn,
  type ChatCompletion,
  type ChatCompletionChunk,
  type GenerateContentResponse,
  type LlmStandIn,
} from '../../src/offline/llm/index.js';

const GEMINI_KEY = 'test-gemini-key';
const OPENAI_KEY = 'test-openai-key';
const MODEL = 'gemini-2.5-flash';
/** A stuck stream fails its suite instead of hanging the run. */
const SUITE = { timeout: 15_000 };
/** A fast clock for tests that are not about timing. */
const FAST = { ttftMs: 0, tokensPerSecond: 2000 };

let llm: LlmStandIn;

before(async () => {
  llm = await startLlmStandIn({ geminiApiKey: GEMINI_KEY, openaiApiKey: OPENAI_KEY, ...FAST });
});
after(() => llm.close());
beforeEach(() => {
  llm.configure({ ...FAST, replies: [] });
  llm.faults.clear();
});

type Shape = string | Shape[] | { [key: string]: Shape };
/** Field names and JSON types of a value, recursively: a renamed, missing or retyped field changes it. */
function shapeOf(value: unknown): Shape {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shapeOf(v)]));
  return typeof value;
}

const GEMINI_USAGE_SHAPE = {
  promptTokenCount: 'number',
  candidatesTokenCount: 'number',
  totalTokenCount: 'number',
  promptTokensDetails: [{ modality: 'string', tokenCount: 'number' }],
};
const GEMINI_CHUNK_SHAPE = {
  candidates: [{ content: { parts: [{ text: 'string' }], role: 'string' }, index: 'number' }],
  usageMetadata: GEMINI_USAGE_SHAPE,
  modelVersion: 'string',
  responseId: 'string',
};
const GEMINI_LAST_SHAPE = {
  ...GEMINI_CHUNK_SHAPE,
  candidates: [{ content: { parts: [{ text: 'string' }], role: 'string' }, finishReason: 'string', index: 'number' }],
};
const GEMINI_ERROR_SHAPE = { error: { code: 'number', message: 'string', status: 'string' } };

const OPENAI_USAGE_SHAPE = {
  prompt_tokens: 'number',
  completion_tokens: 'number',
  total_tokens: 'number',
  prompt_tokens_details: { cached_tokens: 'number', audio_tokens: 'number' },
  completion_tokens_details: { reasoning_tokens: 'number', audio_tokens: 'number', accepted_prediction_tokens: 'number', rejected_prediction_tokens: 'number' },
};
const openaiChunkShape = (delta: Shape, finish: 'string' | 'null', usage?: Shape) => ({
  id: 'string',
  object: 'string',
  created: 'number',
  model: 'string',
  service_tier: 'string',
  system_fingerprint: 'string',
  choices: [{ index: 'number', delta, logprobs: 'null', finish_reason: finish }],
  ...(usage ? { usage } : {}),
});
const openaiErrorShape = (param: 'string' | 'null', code: 'string' | 'null') => ({ error: { message: 'string', type: 'string', param, code } });

interface GeminiOptions {
  model?: string;
  /** `streamGenerateContent`, `generateContent`, or anything else to test the 404. */
  method?: string;
  sse?: boolean;
  headers?: Record<string, string>;
  query?: string;
  signal?: AbortSignal;
}

function gemini(body: unknown, { model = MODEL, method = 'streamGenerateContent', sse = true, headers = { 'x-goog-api-key': GEMINI_KEY }, query = '', signal }: GeminiOptions = {}) {
  const params = [sse && method === 'streamGenerateContent' ? 'alt=sse' : '', query].filter(Boolean).join('&');
  return fetch(`${llm.url}/v1beta/models/${model}:${method}${params ? `?${params}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

function openai(body: unknown, { headers = { authorization: `Bearer ${OPENAI_KEY}` }, signal }: { headers?: Record<string, string>; signal?: AbortSignal } = {}) {
  return fetch(`${llm.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

const ask = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });
const chat = (text: string, extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }], ...extra });

/** The SSE events of a response, read with the widget's readSse, with the arrival time of each. */
async function readEvents(res: Response, signal?: AbortSignal): Promise<{ data: string; at: number }[]> {
  assert.ok(res.body, 'the response has a body');
  const got: { data: string; at: number }[] = [];
  for await (const event of readSse(res.body, signal)) got.push({ data: event.data, at: performance.now() });
  return got;
}

const geminiText = (r: GenerateContentResponse) => r.candidates[0].content.parts[0].text;

/** The last call in the log, after the server has had a moment to record how it ended. */
async function lastCall(settleMs = 20) {
  await sleep(settleMs);
  return llm.calls[llm.calls.length - 1];
}

describe('Gemini streamGenerateContent?alt=sse', SUITE, () => {
  it('streams one GenerateContentResponse per word, CRLF-framed, no [DONE], with the pinned field names', async () => {
    const question = 'What is the weather like today?';
    const expected = defaultReply(question);
    const res = await gemini(ask(question));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const raw = await res.text();
    assert.ok(raw.startsWith('data: {'), 'the stream starts with a data line');
    assert.ok(raw.endsWith('}\r\n\r\n'), 'the last event ends with CRLF CRLF');
    assert.ok(!raw.includes('[DONE]'), 'Gemini sends no [DONE]');
    const blocks = raw.split('\r\n\r\n').slice(0, -1);
    assert.ok(blocks.every((b) => b.startsWith('data: ') && !b.includes('\n')), 'one data line per event, CRLF between events');

    const events = new SseParser().push(raw).map((e) => JSON.parse(e.data) as GenerateContentResponse);
    const pieces = splitTokens(expected);
    assert.equal(events.length, pieces.length);
    assert.deepEqual(events.map(geminiText), pieces);
    assert.equal(events.map(geminiText).join(''), expected);
    events.forEach((e, i) => {
      const last = i === events.length - 1;
      assert.deepEqual(shapeOf(e), last ? GEMINI_LAST_SHAPE : GEMINI_CHUNK_SHAPE, `event ${i}`);
      assert.equal(e.candidates[0].content.role, 'model');
      assert.equal(e.candidates[0].index, 0);
      assert.equal(e.modelVersion, MODEL);
      assert.equal(e.responseId, events[0].responseId);
      assert.equal(e.usageMetadata.promptTokenCount, 6); // "What is the weather like today?"
      assert.equal(e.usageMetadata.candidatesTokenCount, i + 1);
      assert.equal(e.usageMetadata.totalTokenCount, 6 + i + 1);
      assert.deepEqual(e.usageMetadata.promptTokensDetails, [{ modality: 'TEXT', tokenCount: 6 }]);
    });
    assert.equal(events[events.length - 1].candidates[0].finishReason, 'STOP');
    assert.match(events[0].responseId, /^[A-Za-z0-9]{23}$/);
  });

  it('reads through readSse from a real fetch, and logs the call with its system instruction and history', async () => {
    const body = {
      systemInstruction: { parts: [{ text: 'Be brief.' }, { text: ' Speak English.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Hi' }] },
        { role: 'model', parts: [{ text: 'Hello!' }] },
        { parts: [{ text: 'Tell me ' }, { text: 'a joke' }] },
      ],
      generationConfig: { temperature: 0.2, thinkingConfig: { thinkingBudget: 0 } },
    };
    const before = Date.now();
    const events = await readEvents(await gemini(body));
    const text = events.map((e) => geminiText(JSON.parse(e.data) as GenerateContentResponse)).join('');
    assert.equal(text, defaultReply('Tell me a joke'));
    const call = await lastCall();
    assert.deepEqual(
      { ...call, at: 0 },
      {
        provider: 'gemini',
        model: MODEL,
        stream: true,
        messages: [
          { role: 'user', text: 'Hi' },
          { role: 'model', text: 'Hello!' },
          { role: 'user', text: 'Tell me a joke' },
        ],
        system: 'Be brief. Speak English.',
        at: 0,
        tokensSent: splitTokens(text).length,
        status: 'completed',
      },
    );
    assert.ok(call.at >= before && call.at <= Date.now(), `call.at ${call.at} is the time the call was accepted`);
  });

  it('without alt=sse streams a JSON array of the same responses', async () => {
    const res = await gemini(ask('hello'), { sse: false });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=UTF-8');
    const array = JSON.parse(await res.text()) as GenerateContentResponse[];
    assert.deepEqual(array.map(geminiText), splitTokens(defaultReply('hello')));
    assert.deepEqual(shapeOf(array[0]), GEMINI_CHUNK_SHAPE);
    assert.deepEqual(shapeOf(array[array.length - 1]), GEMINI_LAST_SHAPE);
  });
});

describe('Gemini generateContent', SUITE, () => {
  it('answers one GenerateContentResponse with the whole reply, finishReason STOP and usage', async () => {
    const res = await gemini(ask('Can you hear me'), { method: 'generateContent' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as GenerateContentResponse;
    assert.deepEqual(shapeOf(body), GEMINI_LAST_SHAPE);
    const reply = defaultReply('Can you hear me');
    assert.equal(geminiText(body), reply);
    assert.equal(body.candidates[0].finishReason, 'STOP');
    assert.deepEqual(body.usageMetadata, {
      promptTokenCount: 4,
      candidatesTokenCount: splitTokens(reply).length,
      totalTokenCount: 4 + splitTokens(reply).length,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 4 }],
    });
    assert.equal((await lastCall()).stream, false);
  });

  it('accepts the key as ?key=', async () => {
    const res = await gemini(ask('hi'), { method: 'generateContent', headers: {}, query: `key=${GEMINI_KEY}` });
    assert.equal(res.status, 200);
  });
});

describe('Gemini errors', SUITE, () => {
  const cases: { name: string; status: number; grpc: string; message: RegExp; send: () => Promise<Response> }[] = [
    { name: 'no key', status: 403, grpc: 'PERMISSION_DENIED', message: /unregistered callers/, send: () => gemini(ask('hi'), { headers: {} }) },
    { name: 'wrong key', status: 400, grpc: 'INVALID_ARGUMENT', message: /^API key not valid/, send: () => gemini(ask('hi'), { headers: { 'x-goog-api-key': 'nope' } }) },
    { name: 'wrong ?key=', status: 400, grpc: 'INVALID_ARGUMENT', message: /^API key not valid/, send: () => gemini(ask('hi'), { headers: {}, query: 'key=nope' }) },
    { name: 'bad JSON', status: 400, grpc: 'INVALID_ARGUMENT', message: /^Invalid JSON payload received/, send: () => gemini('{"contents": [') },
    { name: 'unknown field', status: 400, grpc: 'INVALID_ARGUMENT', message: /Unknown name "prompt"/, send: () => gemini({ prompt: 'hi' }) },
    { name: 'empty contents', status: 400, grpc: 'INVALID_ARGUMENT', message: /contents is not specified/, send: () => gemini({ contents: [] }) },
    { name: 'no contents', status: 400, grpc: 'INVALID_ARGUMENT', message: /contents is not specified/, send: () => gemini({}) },
    { name: 'empty parts', status: 400, grpc: 'INVALID_ARGUMENT', message: /parts must not be empty/, send: () => gemini({ contents: [{ role: 'user', parts: [] }] }) },
    { name: 'bad role', status: 400, grpc: 'INVALID_ARGUMENT', message: /valid role: user, model/, send: () => gemini({ contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] }) },
    {
      name: 'last turn not user',
      status: 400,
      grpc: 'INVALID_ARGUMENT',
      message: /end with a user turn/,
      send: () => gemini({ contents: [...ask('hi').contents, { role: 'model', parts: [{ text: 'Hello' }] }] }),
    },
    {
      name: 'thinkingBudget not an integer',
      status: 400,
      grpc: 'INVALID_ARGUMENT',
      message: /thinking_budget/,
      send: () => gemini({ ...ask('hi'), generationConfig: { thinkingConfig: { thinkingBudget: 'none' } } }),
    },
    { name: 'unknown method', status: 404, grpc: 'NOT_FOUND', message: /^Method not found/, send: () => gemini(ask('hi'), { method: 'countTokenz' }) },
    { name: 'unknown model', status: 404, grpc: 'NOT_FOUND', message: /^models\/llama-3 is not found for API version v1beta/, send: () => gemini(ask('hi'), { model: 'llama-3' }) },
    {
      name: 'GET instead of POST',
      status: 404,
      grpc: 'NOT_FOUND',
      message: /^Method not found/,
      send: () => fetch(`${llm.url}/v1beta/models/${MODEL}:generateContent`, { headers: { 'x-goog-api-key': GEMINI_KEY } }),
    },
    {
      name: 'body over the limit',
      status: 413,
      grpc: 'INVALID_ARGUMENT',
      message: new RegExp(`exceeds the limit: ${LLM_BODY_LIMIT_BYTES} bytes`),
      send: () => gemini(ask('x'.repeat(LLM_BODY_LIMIT_BYTES))),
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.grpc} in Google's envelope, and no call logged`, async () => {
      const calls = llm.calls.length;
      const res = await c.send();
      assert.equal(res.status, c.status);
      const body = (await res.json()) as { error: { code: number; message: string; status: string; details?: { reason?: string }[] } };
      const { details, ...error } = body.error;
      assert.deepEqual(shapeOf({ error }), GEMINI_ERROR_SHAPE);
      assert.equal(error.code, c.status);
      assert.equal(error.status, c.grpc);
      assert.match(error.message, c.message);
      if (c.name.startsWith('wrong')) assert.equal(details?.[0].reason, 'API_KEY_INVALID');
      else assert.equal(details, undefined);
      assert.equal(llm.calls.length, calls);
    });
  }
});

describe('OpenAI chat completions', SUITE, () => {
  it('streams a role chunk, content deltas, a stop chunk, a usage chunk and [DONE], LF-framed, with the pinned field names', async () => {
    const question = 'Tell me about yourself';
    const expected = defaultReply(question);
    const res = await openai(chat(question, { stream: true, stream_options: { include_usage: true } }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.match(res.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/);
    const raw = await res.text();
    assert.ok(!raw.includes('\r'), 'OpenAI frames with LF only');
    assert.ok(raw.endsWith('\n\ndata: [DONE]\n\n'), 'the stream ends with data: [DONE]');
    const data = new SseParser().push(raw).map((e) => e.data);
    assert.equal(data[data.length - 1], '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as ChatCompletionChunk);
    const pieces = splitTokens(expected);
    assert.equal(chunks.length, pieces.length + 3);

    const [first, ...rest] = chunks;
    const usageChunk = rest.pop()!;
    const stopChunk = rest.pop()!;
    assert.deepEqual(shapeOf(first), openaiChunkShape({ role: 'string', content: 'string', refusal: 'null' }, 'null', 'null'));
    assert.deepEqual(first.choices[0].delta, { role: 'assistant', content: '', refusal: null });
    rest.forEach((c, i) => {
      assert.deepEqual(shapeOf(c), openaiChunkShape({ content: 'string' }, 'null', 'null'), `chunk ${i}`);
      assert.equal(c.choices[0].finish_reason, null);
    });
    assert.deepEqual(
      rest.map((c) => c.choices[0].delta.content),
      pieces,
    );
    assert.deepEqual(shapeOf(stopChunk), openaiChunkShape({}, 'string', 'null'));
    assert.equal(stopChunk.choices[0].finish_reason, 'stop');
    assert.deepEqual(shapeOf(usageChunk), { ...openaiChunkShape({}, 'null', OPENAI_USAGE_SHAPE), choices: [] });
    assert.deepEqual(usageChunk.usage, {
      prompt_tokens: 4,
      completion_tokens: pieces.length,
      total_tokens: 4 + pieces.length,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    });
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.id, first.id);
      assert.equal(c.created, first.created);
      assert.equal(c.model, 'gpt-4o-mini');
    }
    assert.match(first.id, /^chatcmpl-[A-Za-z0-9]{29}$/);
    assert.ok(Math.abs(first.created - Date.now() / 1000) < 5, `created ${first.created} is now, in seconds`);
  });

  it('without include_usage sends no usage field and no usage chunk; read through readSse from a real fetch', async () => {
    const events = await readEvents(await openai(chat('Hello', { stream: true })));
    const data = events.map((e) => e.data);
    assert.equal(data.pop(), '[DONE]');
    const chunks = data.map((d) => JSON.parse(d) as ChatCompletionChunk);
    assert.ok(chunks.every((c) => !('usage' in c) && c.choices.length === 1), 'no usage field, no usage chunk');
    assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), defaultReply('Hello'));
    assert.equal(chunks[chunks.length - 1].choices[0].finish_reason, 'stop');
  });

  it('answers a chat.completion when not streaming; system and developer messages go to the call log as the system text', async () => {
    const res = await openai({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use English.' }] },
        { role: 'user', content: 'What can you do' },
        { role: 'assistant', content: 'Lots.' },
        { role: 'user', content: [{ type: 'text', text: 'Tell me ' }, { type: 'image_url', image_url: { url: 'data:,' } }, { type: 'text', text: 'a joke' }] },
      ],
      temperature: 0,
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as ChatCompletion;
    assert.deepEqual(shapeOf(body), {
      id: 'string',
      object: 'string',
      created: 'number',
      model: 'string',
      choices: [{ index: 'number', message: { role: 'string', content: 'string', refusal: 'null', annotations: [] }, logprobs: 'null', finish_reason: 'string' }],
      usage: OPENAI_USAGE_SHAPE,
      service_tier: 'string',
      system_fingerprint: 'string',
    });
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.choices[0].message.role, 'assistant');
    assert.equal(body.choices[0].message.content, defaultReply('Tell me a joke'));
    assert.equal(body.choices[0].finish_reason, 'stop');
    assert.equal(body.usage.completion_tokens, splitTokens(defaultReply('Tell me a joke')).length);
    const call = await lastCall();
    assert.equal(call.provider, 'openai');
    assert.equal(call.stream, false);
    assert.equal(call.system, 'Be brief.\n\nUse English.');
    assert.deepEqual(call.messages, [
      { role: 'user', text: 'What can you do' },
      { role: 'assistant', text: 'Lots.' },
      { role: 'user', text: 'Tell me a joke' },
    ]);
  });
});

describe('OpenAI errors', SUITE, () => {
  const cases: { name: string; status: number; type: string; param: string | null; code: string | null; message: RegExp; send: () => Promise<Response> }[] = [
    { name: 'no key', status: 401, type: 'invalid_request_error', param: null, code: null, message: /^You didn't provide an API key/, send: () => openai(chat('hi'), { headers: {} }) },
    {
      name: 'not Bearer',
      status: 401,
      type: 'invalid_request_error',
      param: null,
      code: null,
      message: /^You didn't provide an API key/,
      send: () => openai(chat('hi'), { headers: { authorization: `Basic ${OPENAI_KEY}` } }),
    },
    {
      name: 'wrong key',
      status: 401,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
      message: /^Incorrect API key provided: sk-\*+ong1\. /,
      send: () => openai(chat('hi'), { headers: { authorization: 'Bearer sk-wrong1' } }),
    },
    { name: 'bad JSON', status: 400, type: 'invalid_request_error', param: null, code: null, message: /^We could not parse the JSON body/, send: () => openai('{"model": ') },
    { name: 'no model', status: 400, type: 'invalid_request_error', param: null, code: null, message: /^you must provide a model parameter/, send: () => openai({ messages: [] }) },
    {
      name: 'no messages',
      status: 400,
      type: 'invalid_request_error',
      param: 'messages',
      code: 'missing_required_parameter',
      message: /^Missing required parameter: 'messages'/,
      send: () => openai({ model: 'gpt-4o-mini' }),
    },
    { name: 'empty messages', status: 400, type: 'invalid_request_error', param: 'messages', code: 'empty_array', message: /empty array/, send: () => openai({ model: 'gpt-4o-mini', messages: [] }) },
    {
      name: 'bad role',
      status: 400,
      type: 'invalid_request_error',
      param: 'messages[0].role',
      code: 'invalid_value',
      message: /^Invalid value: 'bot'/,
      send: () => openai({ model: 'gpt-4o-mini', messages: [{ role: 'bot', content: 'hi' }] }),
    },
    {
      name: 'user message without content',
      status: 400,
      type: 'invalid_request_error',
      param: 'messages[0].content',
      code: 'missing_required_parameter',
      message: /messages\[0\]\.content/,
      send: () => openai({ model: 'gpt-4o-mini', messages: [{ role: 'user' }] }),
    },
    {
      name: 'stream not a boolean',
      status: 400,
      type: 'invalid_request_error',
      param: 'stream',
      code: 'invalid_type',
      message: /expected a boolean, but got a string/,
      send: () => openai(chat('hi', { stream: 'yes' })),
    },
    {
      name: 'stream_options without stream',
      status: 400,
      type: 'invalid_request_error',
      param: 'stream_options',
      code: null,
      message: /only allowed when 'stream' is enabled/,
      send: () => openai(chat('hi', { stream_options: { include_usage: true } })),
    },
    {
      name: 'unknown model',
      status: 404,
      type: 'invalid_request_error',
      param: null,
      code: 'model_not_found',
      message: /^The model `llama-3` does not exist/,
      send: () => openai({ ...chat('hi'), model: 'llama-3' }),
    },
    {
      name: 'unknown URL',
      status: 404,
      type: 'invalid_request_error',
      param: null,
      code: null,
      message: /^Invalid URL \(POST \/v1\/completions\)/,
      send: () => fetch(`${llm.url}/v1/completions`, { method: 'POST', headers: { authorization: `Bearer ${OPENAI_KEY}` }, body: '{}' }),
    },
    {
      name: 'GET',
      status: 405,
      type: 'invalid_request_error',
      param: null,
      code: null,
      message: /^Invalid method for URL \(GET \/v1\/chat\/completions\)/,
      send: () => fetch(`${llm.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${OPENAI_KEY}` } }),
    },
    {
      name: 'body over the limit',
      status: 413,
      type: 'invalid_request_error',
      param: null,
      code: 'request_too_large',
      message: new RegExp(`limit of ${LLM_BODY_LIMIT_BYTES} bytes`),
      send: () => openai(chat('x'.repeat(LLM_BODY_LIMIT_BYTES))),
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code ?? c.type} in OpenAI's envelope, and no call logged`, async () => {
      const calls = llm.calls.length;
      const res = await c.send();
      assert.equal(res.status, c.status);
      assert.match(res.headers.get('x-request-id') ?? '', /^req_/);
      const body = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
      assert.deepEqual(shapeOf(body), openaiErrorShape(c.param === null ? 'null' : 'string', c.code === null ? 'null' : 'string'));
      assert.equal(body.error.type, c.type);
      assert.equal(body.error.param, c.param);
      assert.equal(body.error.code, c.code);
      assert.match(body.error.message, c.message);
      assert.equal(llm.calls.length, calls);
    });
  }

  it('answers an unknown path outside both APIs with a 404 naming the routes it serves', async () => {
    const res = await fetch(`${llm.url}/v2/whatever`, { method: 'POST' });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /streamGenerateContent\?alt=sse.*\/v1\/chat\/completions/);
  });
});

describe('clock', SUITE, () => {
  /** 21 pieces: at 20 per second the stream lasts 1 s after the first piece. */
  const PACE_REPLY = Array.from({ length: 21 }, (_, i) => `w${i}`).join(' ');

  for (const provider of ['gemini', 'openai'] as const) {
    it(`${provider}: first piece after ≈ ttftMs, then ≈ tokensPerSecond`, async (t) => {
      const ttftMs = 500;
      const tokensPerSecond = 20;
      const interval = 1000 / tokensPerSecond;
      llm.configure({ ttftMs, tokensPerSecond, replies: [{ match: 'pace', reply: PACE_REPLY }] });
      const started = performance.now();
      const res = provider === 'gemini' ? await gemini(ask('pace')) : await openai(chat('pace', { stream: true }));
      const events = await readEvents(res);
      // OpenAI: the role chunk comes with the first word; the stop chunk and [DONE] with the last.
      const words = provider === 'gemini' ? events : events.slice(1, 22);
      assert.equal(words.length, 21);
      const arrival = words.map((w) => w.at - started);
      const gaps = arrival.slice(1).map((a, i) => a - arrival[i]).sort((x, y) => x - y);
      const lastDue = ttftMs + 20 * interval;
      t.diagnostic(
        `${provider}: first piece at ${arrival[0].toFixed(1)} ms (ttftMs ${ttftMs}); last at ${arrival[20].toFixed(1)} ms (due ${lastDue}); ` +
          `mean interval ${((arrival[20] - arrival[0]) / 20).toFixed(1)} ms, median ${gaps[10].toFixed(1)} ms (expected ${interval})`,
      );
      // Never early: a strict bound, since load can only delay. Not much late: loose bounds, since
      // the machine may be busy (and a starved client reads several pieces at once).
      arrival.forEach((a, i) => assert.ok(a >= ttftMs + i * interval - 5, `piece ${i} arrived at ${a} ms, before it was due`));
      assert.ok(arrival[0] < ttftMs + 400, `first piece at ${arrival[0]} ms`);
      assert.ok(arrival[20] < lastDue + 600, `last piece at ${arrival[20]} ms`);
      if (provider === 'openai') assert.ok(events[0].at - started >= ttftMs - 5, 'the role chunk waits for the first token');
    });
  }

  it('a non-streaming answer arrives when the last piece would have been generated', async (t) => {
    llm.configure({ ttftMs: 200, tokensPerSecond: 100, replies: [{ match: 'pace', reply: PACE_REPLY }] });
    const started = performance.now();
    const res = await gemini(ask('pace'), { method: 'generateContent' });
    await res.json();
    const elapsed = performance.now() - started;
    const expected = 200 + (20 * 1000) / 100;
    t.diagnostic(`non-streaming answer after ${elapsed.toFixed(1)} ms (expected ≈ ${expected})`);
    assert.ok(elapsed >= expected - 5 && elapsed < expected + 500, `answered after ${elapsed} ms`);
  });
});

describe('scripted replies and the call log', SUITE, () => {
  it('checks the table in order against the last user message: substring (case-insensitive) or RegExp, else the default', async () => {
    llm.configure({
      replies: [
        { match: 'WEATHER', reply: 'Sunny and warm. Take a hat!' },
        { match: /^tell me (a|one) joke$/i, reply: 'Why did the avatar cross the road?' },
        { match: 'weather like', reply: 'never reached: the first match wins' },
        { match: 'silence', reply: '' },
      ],
    });
    const text = async (q: string, history: { role: string; parts: { text: string }[] }[] = []) => {
      const res = await gemini({ contents: [...history, { role: 'user', parts: [{ text: q }] }] }, { method: 'generateContent' });
      return geminiText((await res.json()) as GenerateContentResponse);
    };
    assert.equal(await text('What is the weather like today'), 'Sunny and warm. Take a hat!');
    assert.equal(await text('Tell me A joke'), 'Why did the avatar cross the road?');
    assert.equal(await text('please tell me a joke'), defaultReply('please tell me a joke'));
    // Only the last user message counts, not the history.
    const history = [
      { role: 'user', parts: [{ text: 'weather?' }] },
      { role: 'model', parts: [{ text: 'Sunny.' }] },
    ];
    assert.equal(await text('thanks', history), defaultReply('thanks'));
    // An empty reply: one empty piece, no token.
    const events = (await readEvents(await gemini(ask('silence')))).map((e) => JSON.parse(e.data) as GenerateContentResponse);
    assert.deepEqual(events.map(geminiText), ['']);
    assert.equal(events[0].candidates[0].finishReason, 'STOP');
    assert.equal(events[0].usageMetadata.candidatesTokenCount, 0);
    const chunks = (await readEvents(await openai(chat('silence', { stream: true })))).map((e) => e.data);
    assert.equal(chunks.length, 3); // role chunk, stop chunk, [DONE]
    assert.equal(chunks[2], '[DONE]');
    assert.equal((JSON.parse(chunks[1]) as ChatCompletionChunk).choices[0].finish_reason, 'stop');
  });

  it('the default reply depends only on the question and repeats it', () => {
    assert.equal(
      defaultReply('  What is   your name?  '),
      'You asked: What is your name. I am the offline stand-in for the language model, so this answer is scripted. Connect a real model to get real answers.',
    );
    assert.equal(defaultReply('What is your name'), defaultReply('What is your name?!'));
    assert.notEqual(defaultReply('hello'), defaultReply('goodbye'));
    assert.match(defaultReply(''), /^I did not catch a question\./);
  });

  it('answers in the language it is asked in: built-in Russian replies of several sentences, a Russian default, the table first', async () => {
    const text = async (q: string) => {
      const res = await openai(chat(q, { stream: true }));
      return (await readEvents(res))
        .filter((e) => e.data !== '[DONE]')
        .map((e) => (JSON.parse(e.data) as ChatCompletionChunk).choices[0]?.delta.content ?? '')
        .join('');
    };
    const weather = await text('Какая сегодня погода?');
    assert.equal(weather, BUILT_IN_REPLIES.ru[0].reply);
    // Several sentences, with abbreviations, initials and numbers that must not cut them.
    assert.deepEqual(splitSentences(weather), [
      'Сегодня в Москве облачно, около +3,5 °C, т. е. прохладно.',
      'Ветер северо-западный, 4–6 м/с, к вечеру до 10 м/с.',
      'По данным А. С. Попова из метеобюро, осадков до 2 мм.',
      'Возьмите зонт, шарф и т. д.',
      'Хорошего дня!',
    ]);
    assert.equal(questionLanguage('Какая сегодня погода?'), 'ru');
    assert.equal(questionLanguage('What is Москва?'), 'en');
    const unscripted = await text('Который час?');
    assert.equal(unscripted, defaultReply('Который час?'));
    assert.equal(
      unscripted,
      'Вы спросили: «Который час». Я офлайн-заменитель языковой модели, т. е. этот ответ заготовлен заранее. Подключите настоящую модель, и ответы станут настоящими.',
    );
    assert.equal(splitSentences(unscripted).length, 3);
    // English questions keep the English default; the configured table comes before the built-in one.
    assert.equal(await text('How are you?'), defaultReply('How are you?'));
    llm.configure({ replies: [{ match: 'погода', reply: 'Своя погода.' }] });
    assert.equal(await text('Какая сегодня погода?'), 'Своя погода.');
  });

  it('POST /_config sets the clock and the table (RegExp as {regex, flags}); GET /_config and GET /_calls report them', async () => {
    const res = await fetch(`${llm.url}/_config`, {
      method: 'POST',
      body: JSON.stringify({ ttftMs: 5, tokensPerSecond: 500, replies: [{ match: { regex: 'hats?$', flags: 'i' }, reply: 'Hats!' }, { match: 'hello', reply: 'Hi.' }] }),
    });
    assert.equal(res.status, 200);
    const config = { ttftMs: 5, tokensPerSecond: 500, replies: [{ match: { regex: 'hats?$', flags: 'i' }, reply: 'Hats!' }, { match: 'hello', reply: 'Hi.' }] };
    assert.deepEqual(await res.json(), config);
    assert.deepEqual(await (await fetch(`${llm.url}/_config`)).json(), config);

    const answer = await openai(chat('Where are my HATS'));
    assert.equal(((await answer.json()) as ChatCompletion).choices[0].message.content, 'Hats!');
    const log = (await (await fetch(`${llm.url}/_calls`)).json()) as { calls: unknown[] };
    assert.deepEqual(log.calls, JSON.parse(JSON.stringify(llm.calls)));
    assert.deepEqual((log.calls[log.calls.length - 1] as { messages: unknown }).messages, [{ role: 'user', text: 'Where are my HATS' }]);
  });

  it('refuses bad settings with 400 (and a RangeError/TypeError in code) and keeps the old ones', async () => {
    llm.configure({ ttftMs: 7 });
    for (const body of [{ ttftMs: -1 }, { tokensPerSecond: 0 }, { ttftMs: '5' }, { replies: [{ match: { regex: '(' }, reply: 'x' }] }, { replies: [{ match: 1, reply: 'x' }] }, { speed: 2 }, []]) {
      const res = await fetch(`${llm.url}/_config`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(typeof ((await res.json()) as { error: unknown }).error, 'string');
    }
    assert.equal(((await (await fetch(`${llm.url}/_config`)).json()) as { ttftMs: number }).ttftMs, 7);
    assert.throws(() => llm.configure({ ttftMs: Number.NaN }), RangeError);
    assert.throws(() => llm.configure({ tokensPerSecond: -3 }), RangeError);
    assert.throws(() => llm.configure({ replies: [{ match: 5 as unknown as string, reply: 'x' }] }), TypeError);
    await assert.rejects(startLlmStandIn({ tokensPerSecond: 0 }), RangeError);
  });
});

describe('faults', SUITE, () => {
  it('rate-limit: 429 with Retry-After in each provider envelope, once; the call is logged as a fault', async () => {
    llm.faults.arm({ kind: 'rate-limit', retryAfter: 7, path: 'streamGenerateContent' });
    const res = await gemini(ask('hi'));
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '7');
    assert.deepEqual(await res.json(), {
      error: {
        code: 429,
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }],
      },
    });
    assert.deepEqual([(await lastCall(0)).status, (await lastCall(0)).fault], ['fault', 'rate-limit']);
    assert.equal((await gemini(ask('hi'))).status, 200, 'the fault applied once');

    llm.faults.arm({ kind: 'rate-limit' });
    const limited = await openai(chat('hi', { stream: true }));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '1');
    const body = (await limited.json()) as { error: { type: string; code: string; param: null; message: string } };
    assert.deepEqual(shapeOf(body), openaiErrorShape('null', 'string'));
    assert.equal(body.error.code, 'rate_limit_exceeded');
    assert.equal(body.error.type, 'requests');
    assert.match(body.error.message, /^Rate limit reached for gpt-4o-mini .* Please try again in 1s\./);
  });

  it('server-error: the status asked for (default 500) in each provider envelope; OpenAI 429 is insufficient_quota', async () => {
    llm.faults.arm({ kind: 'server-error', path: 'generateContent' });
    let res = await gemini(ask('hi'), { method: 'generateContent' });
    assert.equal(res.status, 500);
    assert.deepEqual(((await res.json()) as { error: { code: number; status: string } }).error.status, 'INTERNAL');
    llm.faults.arm({ kind: 'server-error', status: 503 });
    res = await gemini(ask('hi'));
    assert.equal(res.status, 503);
    const unavailable = (await res.json()) as { error: { code: number; status: string; message: string } };
    assert.deepEqual(shapeOf(unavailable), GEMINI_ERROR_SHAPE);
    assert.deepEqual([unavailable.error.code, unavailable.error.status], [503, 'UNAVAILABLE']);

    llm.faults.arm({ kind: 'server-error' });
    res = await openai(chat('hi'));
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), {
      error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null },
    });
    llm.faults.arm({ kind: 'server-error', status: 429 });
    res = await openai(chat('hi'));
    assert.equal(res.status, 429);
    const quota = (await res.json()) as { error: { type: string; code: string } };
    assert.deepEqual([quota.error.type, quota.error.code], ['insufficient_quota', 'insufficient_quota']);
    assert.equal(res.headers.get('retry-after'), null);
  });

  it('faults armed over HTTP apply only to the matching path', async () => {
    const armed = await fetch(`${llm.url}/_faults`, { method: 'POST', body: JSON.stringify({ kind: 'server-error', status: 502, path: '/v1/chat/completions' }) });
    assert.equal(armed.status, 204);
    assert.equal((await gemini(ask('hi'))).status, 200);
    const res = await openai(chat('hi'));
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'server_error');
    assert.deepEqual(await (await fetch(`${llm.url}/_faults`)).json(), { faults: [] });
  });

  it('stall: a stream gets its headers and then nothing; a whole answer gets nothing at all', async () => {
    llm.faults.arm({ kind: 'stall', times: 2 });
    const controller = new AbortController();
    const res = await openai(chat('hi', { stream: true }), { signal: controller.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    const first = await Promise.race([reader.read().then(() => 'data'), sleep(400).then(() => 'nothing')]);
    assert.equal(first, 'nothing');
    controller.abort();
    assert.deepEqual([(await lastCall(0)).status, (await lastCall(0)).fault, (await lastCall(0)).tokensSent], ['fault', 'stall', 0]);

    const whole = new AbortController();
    const pending = gemini(ask('hi'), { method: 'generateContent', signal: whole.signal });
    const outcome = await Promise.race([pending.then(() => 'answered'), sleep(300).then(() => 'nothing')]);
    assert.equal(outcome, 'nothing');
    whole.abort();
    await assert.rejects(pending, { name: 'AbortError' });
  });

  it('drop: the connection is destroyed mid-stream after afterMs', async () => {
    llm.configure({ ttftMs: 0, tokensPerSecond: 40 });
    llm.faults.arm({ kind: 'drop', afterMs: 150 });
    const res = await gemini(ask('What is your name'));
    assert.equal(res.status, 200);
    const got: string[] = [];
    await assert.rejects(async () => {
      for await (const e of readSse(res.body!)) got.push(e.data);
    }, /terminated/);
    const total = splitTokens(defaultReply('What is your name')).length;
    const call = await lastCall();
    // At 40 pieces per second from t = 0, pieces 0…5 are due before 150 ms; the drop comes before piece 6.
    assert.deepEqual([call.status, call.fault, call.tokensSent], ['fault', 'drop', 6]);
    assert.ok(got.length >= 1 && got.length <= 6, `received ${got.length} of ${total} pieces before the drop`);
  });
});

describe('client disconnect', SUITE, () => {
  for (const provider of ['gemini', 'openai'] as const) {
    it(`${provider}: generation stops when the client goes away mid-stream`, async () => {
      llm.configure({ ttftMs: 0, tokensPerSecond: 20 });
      const controller = new AbortController();
      const res = provider === 'gemini' ? await gemini(ask('Tell me a joke'), { signal: controller.signal }) : await openai(chat('Tell me a joke', { stream: true }), { signal: controller.signal });
      let received = 0;
      for await (const _ of readSse(res.body!, controller.signal)) {
        if (++received === 3) controller.abort();
      }
      const total = splitTokens(defaultReply('Tell me a joke')).length;
      const call = await lastCall(60);
      const sentAtClose = call.tokensSent;
      assert.equal(call.status, 'disconnected');
      // At 20 per second the rest of the reply (≥ 20 pieces) would take ≥ 1 s: nothing more is written.
      await sleep(300);
      assert.equal(call.tokensSent, sentAtClose);
      // Three events were read: three words from Gemini; the role chunk and two words from OpenAI.
      assert.ok(sentAtClose >= (provider === 'gemini' ? 3 : 2) && sentAtClose < total, `${sentAtClose} of ${total} pieces written`);
    });
  }

  it('a whole answer being prepared is abandoned when the client goes away', async () => {
    llm.configure({ ttftMs: 300 });
    const controller = new AbortController();
    const pending = openai(chat('hi'), { signal: controller.signal });
    await sleep(100);
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    const call = await lastCall(300);
    assert.deepEqual([call.status, call.tokensSent], ['disconnected', 0]);
  });
});

describe('close', SUITE, () => {
  it('ends open streams (stalled ones included) and stops listening', async (t) => {
    const own = await startLlmStandIn({ ttftMs: 0, tokensPerSecond: 10 });
    t.after(() => own.close()); // if an assertion fails first; close() is idempotent
    own.faults.arm({ kind: 'stall' });
    const stalled = await fetch(`${own.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer offline-openai-key' },
      body: JSON.stringify(chat('hi', { stream: true })),
    });
    const streaming = await fetch(`${own.url}/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'offline-gemini-key' },
      body: JSON.stringify(ask('hi')),
    });
    const started = performance.now();
    await own.close();
    assert.ok(performance.now() - started < 1000, 'close() did not wait for the streams to finish');
    await assert.rejects(stalled.text());
    await assert.rejects(streaming.text());
    assert.equal(own.calls[1].status, 'disconnected');
    await assert.rejects(fetch(`${own.url}/_calls`));
  });
});
