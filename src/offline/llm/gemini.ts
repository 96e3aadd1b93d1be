// Gemini's `generativelanguage.googleapis.com` API, as far as the widget's default LLM route uses it:
//   POST /v1beta/models/{model}:streamGenerateContent?alt=sse   (SSE; without alt=sse a streamed JSON array)
//   POST /v1beta/models/{model}:generateContent
// Auth `x-goog-api-key: KEY` or `?key=KEY`. Errors are Google's `{error: {code, message, status, details?}}`.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import {
  ProtocolError,
  countTokens,
  isRecord,
  randomId,
  type AcceptedRequest,
  type ChatMessage,
  type GenerationRoute,
  type LlmProtocol,
  type ReplyEncoder,
} from './protocol.js';

/** Google's JSON error envelope. */
export interface GeminiErrorBody {
  error: { code: number; message: string; status: string; details?: Record<string, unknown>[] };
}

/** A GenerateContentResponse as the stand-in writes it: one per SSE event, or the whole answer. */
export interface GenerateContentResponse {
  candidates: {
    content: { parts: { text: string }[]; role: 'model' };
    /** On the last piece of a stream, and on a whole answer. */
    finishReason?: 'STOP';
    index: number;
  }[];
  usageMetadata: {
    promptTokenCount: number;
    /** Pieces generated so far. */
    candidatesTokenCount: number;
    totalTokenCount: number;
    promptTokensDetails: { modality: 'TEXT'; tokenCount: number }[];
  };
  modelVersion: string;
  responseId: string;
}

const ROOT = '/v1beta/';
const METHOD_PATH = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/;
/** Model names the stand-in serves (the Gemini and Gemma families); others get upstream's 404. */
const MODEL_NAME = /^(gemini|gemma)-[A-Za-z0-9.-]+$/;
/** Top-level GenerateContentRequest fields (proto JSON accepts lowerCamel and snake_case names). */
const REQUEST_FIELDS = new Set([
  'contents',
  'systemInstruction',
  'system_instruction',
  'generationConfig',
  'generation_config',
  'safetySettings',
  'safety_settings',
  'tools',
  'toolConfig',
  'tool_config',
  'cachedContent',
  'cached_content',
  'labels',
  'model',
]);
/** Part fields besides `text` (the `data` oneof and its companions): accepted, not read. */
const OTHER_PART_FIELDS = ['inlineData', 'inline_data', 'fileData', 'file_data', 'functionCall', 'function_call', 'functionResponse', 'function_response', 'executableCode', 'executable_code', 'codeExecutionResult', 'code_execution_result'];

/** The canonical gRPC status name Google's JSON errors carry for an HTTP status. */
const GRPC_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const FAILURE_MESSAGES: Record<number, string> = {
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

function geminiError(code: number, message: string, details?: Record<string, unknown>[], headers?: Record<string, string>): ProtocolError {
  const status = GRPC_STATUS[code] ?? (code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  const body: GeminiErrorBody = { error: { code, message, status } };
  if (details) body.error.details = details;
  return new ProtocolError(code, body, headers);
}

const invalid = (message: string) => geminiError(400, message);

/** The Gemini protocol, accepting `apiKey`. */
export function geminiProtocol(apiKey: string): LlmProtocol {
  return {
    provider: 'gemini',
    owns: (pathname) => pathname.startsWith(ROOT),

    route(method, url) {
      const match = METHOD_PATH.exec(url.pathname);
      const verb = match?.[2];
      if (!match || (verb !== 'generateContent' && verb !== 'streamGenerateContent') || method !== 'POST') {
        throw geminiError(404, 'Method not found.');
      }
      const stream = verb === 'streamGenerateContent';
      return { model: decodeURIComponent(match[1]), stream, sse: stream && url.searchParams.get('alt') === 'sse' };
    },

    authenticate(req: IncomingMessage, url: URL) {
      const header = req.headers['x-goog-api-key'];
      const key = (Array.isArray(header) ? header[0] : header) || url.searchParams.get('key');
      if (!key) {
        throw geminiError(
          403,
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        );
      }
      if (key !== apiKey) {
        const message = 'API key not valid. Please pass a valid API key.';
        throw geminiError(400, message, [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
          { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
        ]);
      }
    },

    parse: parseRequest,
    badJson: () => invalid('Invalid JSON payload received. Unexpected token.'),
    tooLarge: (limit) => geminiError(413, `Request payload size exceeds the limit: ${limit} bytes.`),
    rateLimited: (retryAfter) =>
      geminiError(
        429,
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
        [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfter}s` }],
        { 'retry-after': String(retryAfter) },
      ),
    failure: (status) => geminiError(status, FAILURE_MESSAGES[status] ?? STATUS_CODES[status] ?? 'Error'),
    answerHeaders: () => ({}),
  };
}

function parseRequest(body: unknown, route: GenerationRoute): AcceptedRequest {
  const model = route.model ?? '';
  if (!isRecord(body)) throw invalid('Invalid JSON payload received. Unknown name "": Root element must be a message.');
  for (const name of Object.keys(body)) {
    if (!REQUEST_FIELDS.has(name)) throw invalid(`Invalid JSON payload received. Unknown name "${name}": Cannot find field.`);
  }
  if (!MODEL_NAME.test(model)) {
    throw geminiError(
      404,
      `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
    );
  }
  const contents = body.contents;
  if (contents === undefined || (Array.isArray(contents) && contents.length === 0)) {
    throw invalid('* GenerateContentRequest.contents: contents is not specified\n');
  }
  if (!Array.isArray(contents)) throw invalid(`Invalid value at 'contents' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), ${JSON.stringify(contents)}`);
  const messages = contents.map((content, i): ChatMessage => {
    if (!isRecord(content)) throw invalid(`Invalid value at 'contents[${i}]' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), ${JSON.stringify(content)}`);
    const role = content.role ?? '';
    if (role !== '' && role !== 'user' && role !== 'model') throw invalid('Please use a valid role: user, model.');
    return { role: role || 'user', text: partsText(content.parts, `contents[${i}]`) };
  });
  if (messages[messages.length - 1].role !== 'user') {
    throw invalid('Please ensure that multiturn requests end with a user turn or a function response.');
  }
  const instruction = body.systemInstruction ?? body.system_instruction;
  let system: string | undefined;
  if (instruction !== undefined) {
    if (!isRecord(instruction)) throw invalid(`Invalid value at 'system_instruction' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), ${JSON.stringify(instruction)}`);
    system = partsText(instruction.parts, 'system_instruction');
  }
  checkGenerationConfig(body.generationConfig ?? body.generation_config);
  const stream = route.stream === true;
  return {
    model,
    stream,
    messages,
    ...(system !== undefined ? { system } : {}),
    encoder: geminiEncoder(model, countTokens(system, ...messages.map((m) => m.text)), stream && route.sse === true),
  };
}

/** The text of a Content's parts, joined; `where` names the Content in error messages. */
function partsText(parts: unknown, where: string): string {
  if (!Array.isArray(parts) || parts.length === 0) throw invalid(`* GenerateContentRequest.${where}.parts: contents.parts must not be empty.\n`);
  return parts
    .map((part, j) => {
      if (!isRecord(part)) throw invalid(`Invalid value at '${where}.parts[${j}]' (type.googleapis.com/google.ai.generativelanguage.v1beta.Part), ${JSON.stringify(part)}`);
      if (part.text === undefined) {
        if (!OTHER_PART_FIELDS.some((name) => part[name] !== undefined)) {
          throw invalid(`* GenerateContentRequest.${where}.parts[${j}].data: required oneof field 'data' must have one initialized field\n`);
        }
        return '';
      }
      if (typeof part.text !== 'string') throw invalid(`Invalid value at '${where}.parts[${j}].text' (TYPE_STRING), ${JSON.stringify(part.text)}`);
      return part.text;
    })
    .join('');
}

/** Checks the generationConfig parts the widget sets (`thinkingConfig.thinkingBudget`); the rest is accepted as is. */
function checkGenerationConfig(config: unknown): void {
  if (config === undefined) return;
  if (!isRecord(config)) throw invalid(`Invalid value at 'generation_config' (type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig), ${JSON.stringify(config)}`);
  const thinking = config.thinkingConfig ?? config.thinking_config;
  if (thinking === undefined) return;
  if (!isRecord(thinking)) throw invalid(`Invalid value at 'generation_config.thinking_config' (type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingConfig), ${JSON.stringify(thinking)}`);
  const budget = thinking.thinkingBudget ?? thinking.thinking_budget;
  if (budget !== undefined && !Number.isInteger(budget)) {
    throw invalid(`Invalid value at 'generation_config.thinking_config.thinking_budget' (TYPE_INT32), ${JSON.stringify(budget)}`);
  }
}

/** Writes GenerateContentResponses: one per SSE event (CRLF-framed, no `[DONE]`), or a streamed JSON array. */
function geminiEncoder(model: string, promptTokens: number, sse: boolean): ReplyEncoder {
  const responseId = randomId(23);
  const response = (text: string, tokens: number, done: boolean): GenerateContentResponse => ({
    candidates: [{ content: { parts: [{ text }], role: 'model' }, ...(done ? { finishReason: 'STOP' as const } : {}), index: 0 }],
    usageMetadata: {
      promptTokenCount: promptTokens,
      candidatesTokenCount: tokens,
      totalTokenCount: promptTokens + tokens,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
    },
    modelVersion: model,
    responseId,
  });
  return {
    streamContentType: sse ? 'text/event-stream' : 'application/json; charset=UTF-8',
    piece(text, index, count) {
      const last = index === count - 1;
      const json = JSON.stringify(response(text, index + (text === '' ? 0 : 1), last));
      if (sse) return `data: ${json}\r\n\r\n`;
      return `${index === 0 ? '[' : ',\r\n'}${json}${last ? ']' : ''}`;
    },
    whole: (text, tokens) => response(text, tokens, true),
  };
}
