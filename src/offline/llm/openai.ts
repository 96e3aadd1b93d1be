// OpenAI's Chat Completions API: `POST /v1/chat/completions` with `Authorization: Bearer KEY`;
// `stream: true` answers `chat.completion.chunk` SSE events ending with `data: [DONE]`.
// Errors are OpenAI's `{error: {message, type, param, code}}`.
import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { ProtocolError, countTokens, isRecord, randomId, type AcceptedRequest, type ChatMessage, type LlmProtocol, type ReplyEncoder } from './protocol.js';

/** OpenAI's JSON error envelope. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: { reasoning_tokens: number; audio_tokens: number; accepted_prediction_tokens: number; rejected_prediction_tokens: number };
}

/** One streamed `chat.completion.chunk`. */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  service_tier: string;
  system_fingerprint: string;
  /** Empty on the usage chunk. */
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string; refusal?: null };
    logprobs: null;
    finish_reason: 'stop' | null;
  }[];
  /** Only with `stream_options: {include_usage: true}`: null except on the last chunk. */
  usage?: OpenAiUsage | null;
}

/** A non-streaming `chat.completion`. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string; refusal: null; annotations: unknown[] };
    logprobs: null;
    finish_reason: 'stop';
  }[];
  usage: OpenAiUsage;
  service_tier: string;
  system_fingerprint: string;
}

const ROOT = '/v1/';
const CHAT_PATH = '/v1/chat/completions';
/** Model names the stand-in serves (GPT and o-series); others get upstream's 404. */
const MODEL_NAME = /^(gpt-|chatgpt-|o\d)/;
const ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];
/** Roles whose message must carry `content` (an assistant message may carry tool calls instead). */
const CONTENT_REQUIRED = new Set(['system', 'developer', 'user', 'tool']);
const SYSTEM_FINGERPRINT = 'fp_0ff1ine000';

function openaiError(
  status: number,
  message: string,
  { type = 'invalid_request_error', param = null, code = null, headers }: { type?: string; param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
): ProtocolError {
  const body: OpenAiErrorBody = { error: { message, type, param, code } };
  return new ProtocolError(status, body, headers);
}

const invalid = (message: string, param: string | null = null, code: string | null = null) => openaiError(400, message, { param, code });

/** "a string", "an array", "null"…: how OpenAI names a JSON value's type in its errors. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' ? 'an object' : `a ${t === 'number' && Number.isInteger(value) ? 'integer' : t}`;
}

/** Masks a key as OpenAI does when it quotes one back: `sk-abc****wxyz`. */
function maskKey(key: string): string {
  return key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}

/** The OpenAI protocol, accepting `apiKey`. */
export function openaiProtocol(apiKey: string): LlmProtocol {
  return {
    provider: 'openai',
    owns: (pathname) => pathname.startsWith(ROOT),

    route(method, url) {
      if (url.pathname !== CHAT_PATH) throw openaiError(404, `Invalid URL (${method} ${url.pathname})`);
      if (method !== 'POST') throw openaiError(405, `Invalid method for URL (${method} ${url.pathname})`);
      return {};
    },

    authenticate(req: IncomingMessage) {
      const key = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!key) {
        throw openaiError(
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
        );
      }
      if (key !== apiKey) {
        throw openaiError(401, `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`, {
          code: 'invalid_api_key',
        });
      }
    },

    parse: parseRequest,
    badJson: () =>
      invalid(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
      ),
    tooLarge: (limit) => openaiError(413, `Request too large: the body exceeds the limit of ${limit} bytes.`, { code: 'request_too_large' }),
    rateLimited: (retryAfter, model) =>
      openaiError(
        429,
        `Rate limit reached for ${model} in organization org-offline on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${retryAfter}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        {
          type: 'requests',
          code: 'rate_limit_exceeded',
          headers: { 'retry-after': String(retryAfter), 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': `${retryAfter}s` },
        },
      ),
    failure(status) {
      if (status === 429) {
        return openaiError(
          429,
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
          { type: 'insufficient_quota', code: 'insufficient_quota' },
        );
      }
      if (status === 500) return openaiError(500, 'The server had an error while processing your request. Sorry about that!', { type: 'server_error' });
      if (status === 503) return openaiError(503, 'The engine is currently overloaded, please try again later.', { type: 'server_error' });
      return openaiError(status, STATUS_CODES[status] ?? 'Error', { type: status >= 500 ? 'server_error' : 'invalid_request_error' });
    },
    answerHeaders: () => ({ 'x-request-id': `req_${randomBytes(16).toString('hex')}` }),
  };
}

function parseRequest(body: unknown): AcceptedRequest {
  if (!isRecord(body)) throw invalid(`Invalid type for body: expected an object, but got ${typeName(body)} instead.`);
  const { model, messages: rawMessages, stream = false, stream_options: streamOptions } = body;
  if (model === undefined) throw invalid('you must provide a model parameter');
  if (typeof model !== 'string') throw invalid(`Invalid type for 'model': expected a string, but got ${typeName(model)} instead.`, 'model', 'invalid_type');
  if (rawMessages === undefined) throw invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(rawMessages)) throw invalid(`Invalid type for 'messages': expected an array, but got ${typeName(rawMessages)} instead.`, 'messages', 'invalid_type');
  if (rawMessages.length === 0) {
    throw invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  }
  if (stream !== null && typeof stream !== 'boolean') throw invalid(`Invalid type for 'stream': expected a boolean, but got ${typeName(stream)} instead.`, 'stream', 'invalid_type');
  let includeUsage = false;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (stream !== true) throw invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
    if (!isRecord(streamOptions)) throw invalid(`Invalid type for 'stream_options': expected an object, but got ${typeName(streamOptions)} instead.`, 'stream_options', 'invalid_type');
    const flag = streamOptions.include_usage;
    if (flag !== undefined && typeof flag !== 'boolean') {
      throw invalid(`Invalid type for 'stream_options.include_usage': expected a boolean, but got ${typeName(flag)} instead.`, 'stream_options.include_usage', 'invalid_type');
    }
    includeUsage = flag === true;
  }
  // Upstream checks the model once the request is well-formed.
  if (!MODEL_NAME.test(model)) throw openaiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, { code: 'model_not_found' });

  const all = rawMessages.map(parseMessage);
  const systemTexts = all.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.text);
  const messages = all.filter((m) => m.role !== 'system' && m.role !== 'developer');
  const system = systemTexts.length > 0 ? systemTexts.join('\n\n') : undefined;
  const isStream = stream === true;
  return {
    model,
    stream: isStream,
    messages,
    ...(system !== undefined ? { system } : {}),
    encoder: openaiEncoder(model, countTokens(...all.map((m) => m.text)), includeUsage),
  };
}

function parseMessage(message: unknown, i: number): ChatMessage {
  const where = `messages[${i}]`;
  if (!isRecord(message)) throw invalid(`Invalid type for '${where}': expected an object, but got ${typeName(message)} instead.`, where, 'invalid_type');
  const { role, content } = message;
  if (role === undefined) throw invalid(`Missing required parameter: '${where}.role'.`, `${where}.role`, 'missing_required_parameter');
  if (typeof role !== 'string' || !ROLES.includes(role)) {
    throw invalid(
      `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
      `${where}.role`,
      'invalid_value',
    );
  }
  if (content === undefined || content === null) {
    if (CONTENT_REQUIRED.has(role)) throw invalid(`Missing required parameter: '${where}.content'.`, `${where}.content`, 'missing_required_parameter');
    return { role, text: '' };
  }
  if (typeof content === 'string') return { role, text: content };
  if (!Array.isArray(content)) {
    throw invalid(`Invalid type for '${where}.content': expected one of a string or array of objects, but got ${typeName(content)} instead.`, `${where}.content`, 'invalid_type');
  }
  const text = content
    .map((part, j) => {
      const at = `${where}.content[${j}]`;
      if (!isRecord(part)) throw invalid(`Invalid type for '${at}': expected an object, but got ${typeName(part)} instead.`, at, 'invalid_type');
      if (part.type === undefined) throw invalid(`Missing required parameter: '${at}.type'.`, `${at}.type`, 'missing_required_parameter');
      if (part.type !== 'text') return ''; // images, audio, files: accepted, not read
      if (typeof part.text !== 'string') throw invalid(`Invalid type for '${at}.text': expected a string, but got ${typeName(part.text)} instead.`, `${at}.text`, 'invalid_type');
      return part.text;
    })
    .join('');
  return { role, text };
}

/** Writes `chat.completion.chunk` SSE events (LF-framed) ending with `data: [DONE]`, or a `chat.completion`. */
function openaiEncoder(model: string, promptTokens: number, includeUsage: boolean): ReplyEncoder {
  const id = `chatcmpl-${randomId(29)}`;
  const created = Math.floor(Date.now() / 1000);
  const usage = (tokens: number): OpenAiUsage => ({
    prompt_tokens: promptTokens,
    completion_tokens: tokens,
    total_tokens: promptTokens + tokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  });
  const chunk = (choices: ChatCompletionChunk['choices'], finalUsage?: OpenAiUsage): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices,
    ...(includeUsage ? { usage: finalUsage ?? null } : {}),
  });
  const choice = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: 'stop' | null) => [{ index: 0, delta, logprobs: null, finish_reason: finish }];
  return {
    streamContentType: 'text/event-stream; charset=utf-8',
    piece(text, index, count) {
      const chunks: ChatCompletionChunk[] = [];
      if (index === 0) chunks.push(chunk(choice({ role: 'assistant', content: '', refusal: null }, null)));
      if (text !== '') chunks.push(chunk(choice({ content: text }, null)));
      const last = index === count - 1;
      if (last) {
        chunks.push(chunk(choice({}, 'stop')));
        if (includeUsage) chunks.push(chunk([], usage(index + (text === '' ? 0 : 1))));
      }
      return chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + (last ? 'data: [DONE]\n\n' : '');
    },
    whole: (text, tokens): ChatCompletion => ({
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage: usage(tokens),
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
    }),
  };
}
