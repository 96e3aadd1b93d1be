// What the LLM stand-in's server needs from each upstream protocol (Gemini, OpenAI): routing,
// auth, request validation, error envelopes and response encoding. The server owns the clock,
// the replies, the call log and the faults.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** One turn of the conversation as the client sent it, with its text parts joined. */
export interface ChatMessage {
  /** The provider's own role name: Gemini `user` / `model`; OpenAI `user` / `assistant` / `tool`… */
  role: string;
  text: string;
}

/** A failed request, answered in the provider's error envelope. Thrown by the protocol functions. */
export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
    this.name = 'ProtocolError';
  }
}

/** A request the protocol accepted: what to log, and how to write the reply. */
export interface AcceptedRequest {
  model: string;
  stream: boolean;
  /** The conversation, system turns excluded. */
  messages: ChatMessage[];
  /** Gemini `systemInstruction`, or OpenAI `system` / `developer` messages, joined by blank lines. */
  system?: string;
  encoder: ReplyEncoder;
}

/** Writes one reply in the provider's format. Token counts are the stand-in's reply pieces. */
export interface ReplyEncoder {
  /** `Content-Type` of a streamed answer. */
  readonly streamContentType: string;
  /**
   * What to write for reply piece `index` (0-based) of `count`: the piece's event(s), with the
   * stream's opening frames before the first piece and its closing frames after the last one.
   * An empty reply is written as one empty piece (no token).
   */
  piece(text: string, index: number, count: number): string;
  /** The whole non-streaming answer (a JSON body) for a reply of `tokens` pieces. */
  whole(text: string, tokens: number): unknown;
}

/** One upstream protocol, as the stand-in serves it. */
export interface LlmProtocol {
  readonly provider: 'gemini' | 'openai';
  /** Whether `pathname` is under this provider's API root, so its errors use this envelope. */
  owns(pathname: string): boolean;
  /** Resolves the generation route; throws a ProtocolError (404, 405) for anything else. */
  route(method: string, url: URL): GenerationRoute;
  /** Throws a ProtocolError (401, 403, 400) unless the request carries the stand-in's key. */
  authenticate(req: IncomingMessage, url: URL): void;
  /** Validates the JSON body; throws a ProtocolError (400, 404) for what upstream refuses. */
  parse(body: unknown, route: GenerationRoute): AcceptedRequest;
  /** The body is not JSON. */
  badJson(): ProtocolError;
  /** The body is larger than `limit` bytes. */
  tooLarge(limit: number): ProtocolError;
  /** A `rate-limit` fault: HTTP 429 with Retry-After. */
  rateLimited(retryAfterSeconds: number, model: string): ProtocolError;
  /** A `server-error` fault: the provider's answer for HTTP `status`. */
  failure(status: number): ProtocolError;
  /** Extra headers on every answer of this provider (request ids). */
  answerHeaders(): Record<string, string>;
}

/** Where a generation request goes: the model from the path (Gemini) and the streaming mode. */
export interface GenerationRoute {
  /** Gemini: the `{model}` path segment. OpenAI: undefined (the model is in the body). */
  model?: string;
  /** Gemini: decided by the method (`:streamGenerateContent`). OpenAI: undefined (`stream` is in the body). */
  stream?: boolean;
  /** Gemini streaming only: `alt=sse` (SSE) rather than the default streamed JSON array. */
  sse?: boolean;
}

/** Cuts text into word-sized pieces that keep their spaces: `'Hi there.'` → `['Hi', ' there.']`. */
export function splitTokens(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** The stand-in's token count of a text (its number of word-sized pieces). */
export function countTokens(...texts: (string | undefined)[]): number {
  return texts.reduce((n, t) => n + (t ? splitTokens(t).length : 0), 0);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A random id of `length` characters from [A-Za-z0-9]. */
export function randomId(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let id = '';
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}
