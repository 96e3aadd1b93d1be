// Deepgram's live transcription protocol as the stand-in speaks it (DESIGN.md §6): the query
// parameters of `GET /v1/listen`, the JSON messages sent to the client, and the error bodies.
import { createHash } from 'node:crypto';

/** Deepgram's error body: `{err_code, err_msg, request_id}`. */
export interface DeepgramErrorBody {
  err_code: string;
  err_msg: string;
  request_id: string;
}

/** The errors the stand-in answers with; `status` is the HTTP status. */
export const DEEPGRAM_ERRORS = {
  badRequest: { status: 400, err_code: 'Bad Request' },
  invalidAuth: { status: 401, err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.' },
  notFound: { status: 404, err_code: 'NOT_FOUND' },
  methodNotAllowed: { status: 405, err_code: 'METHOD_NOT_ALLOWED' },
  payloadTooLarge: { status: 413, err_code: 'PAYLOAD_TOO_LARGE' },
  tooManyRequests: { status: 429, err_code: 'TOO_MANY_REQUESTS', err_msg: 'Too many requests. Please try again later.' },
  serverError: { status: 500, err_code: 'INTERNAL_SERVER_ERROR', err_msg: 'Internal server error.' },
} as const;

/** Close frames of the live stream (code and reason as upstream sends them). */
export const CLOSE = {
  /** After CloseStream, once the last results and the Metadata are out. */
  normal: { code: 1000, reason: '' },
  /** The server shuts down. */
  goingAway: { code: 1001, reason: 'The offline Deepgram stand-in is shutting down.' },
  /** A text frame that is not one of the control messages. */
  badMessage: { code: 1008, reason: 'Text frames must be JSON control messages: KeepAlive, Finalize or CloseStream.' },
  /** Nothing (audio or text) arrived for the idle timeout. */
  idle: {
    code: 1011,
    reason: 'Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001',
  },
} as const;

export interface ResultsWord {
  word: string;
  start: number;
  end: number;
  confidence: number;
  /** Present with `smart_format=true` or `punctuate=true`, as upstream. */
  punctuated_word?: string;
}

export interface ModelInfo {
  name: string;
  version: string;
  arch: string;
}

export interface ResultsMessage {
  type: 'Results';
  /** `[channel, channel count]`; the stand-in transcribes the channels mixed down, as channel 0 of 1. */
  channel_index: [number, number];
  /** Seconds of audio this result covers, from `start`. */
  duration: number;
  /** Seconds from the start of the stream's audio. */
  start: number;
  is_final: boolean;
  speech_final: boolean;
  from_finalize: boolean;
  channel: { alternatives: Array<{ transcript: string; confidence: number; words: ResultsWord[] }> };
  metadata: { request_id: string; model_info: ModelInfo; model_uuid: string };
}

export interface UtteranceEndMessage {
  type: 'UtteranceEnd';
  channel: [number, number];
  /** End (seconds) of the last word before the gap. */
  last_word_end: number;
}

export interface SpeechStartedMessage {
  type: 'SpeechStarted';
  channel: [number, number];
  /** Start (seconds) of the speech. */
  timestamp: number;
}

export interface MetadataMessage {
  type: 'Metadata';
  transaction_key: 'deprecated';
  request_id: string;
  /** SHA-256 (hex) of the audio bytes received. */
  sha256: string;
  /** When the stream opened (ISO 8601). */
  created: string;
  /** Seconds of audio received. */
  duration: number;
  channels: number;
  models: string[];
  model_info: Record<string, ModelInfo>;
}

export type ListenServerMessage = ResultsMessage | UtteranceEndMessage | SpeechStartedMessage | MetadataMessage;

/** The `/v1/listen` query parameters the stand-in acts on. */
export interface ListenParams {
  model: string;
  language: string;
  encoding: 'linear16';
  sampleRate: number;
  channels: number;
  interimResults: boolean;
  /** `smart_format` or `punctuate`: capitalise the transcript and end finals with a period. */
  punctuate: boolean;
  vadEvents: boolean;
  /** Silence (ms) after speech that makes a final `speech_final`; false disables it. Default 10. */
  endpointing: number | false;
  /** Gap (ms) after the last word that sends UtteranceEnd; null (the default) never sends it. */
  utteranceEndMs: number | null;
}

/** A query parameter Deepgram would refuse: the upgrade is answered 400. */
export class ListenParamError extends Error {}

/** Encodings upstream accepts for live audio; of these the stand-in decodes only linear16. */
const UPSTREAM_ENCODINGS = ['linear16', 'linear32', 'flac', 'alaw', 'mulaw', 'amr-nb', 'amr-wb', 'opus', 'ogg-opus', 'speex', 'g729'];

/**
 * The languages Deepgram's Nova models take (its models-and-languages overview). A model outside
 * this table is not checked: the stand-in takes any language for it.
 */
const NOVA_2 = 'bg ca zh zh-cn zh-hans zh-tw zh-hant zh-hk cs da da-dk nl nl-be en en-us en-au en-gb en-nz en-in et fi fr fr-ca de de-ch el hi hu id it ja ko ko-kr lv lt ms multi no pl pt pt-br pt-pt ro ru sk es es-419 sv sv-se th th-th tr uk vi';
const NOVA_3 =
  'en en-us en-au en-gb en-in en-nz multi de nl sv sv-se da da-dk es es-419 fr fr-ca pt pt-br pt-pt it tr no id bg cs fi hi hu ja ko ko-kr pl ru uk vi ca et nl-be de-ch el lv lt ms ro sk be bn bs hr kn mk mr sr sl ta tl te zh zh-cn zh-hans zh-tw zh-hant';
const ENGLISH_ONLY = 'en en-us';
const MODEL_LANGUAGES: Record<string, Set<string>> = {
  'nova-2': new Set(NOVA_2.split(' ')),
  'nova-2-general': new Set(NOVA_2.split(' ')),
  'nova-3': new Set(NOVA_3.split(' ')),
  'nova-3-general': new Set(NOVA_3.split(' ')),
};

/** Whether Deepgram's `model` takes `language` (Nova's specialised models are English only). */
export function modelTakesLanguage(model: string, language: string): boolean {
  const languages = MODEL_LANGUAGES[model] ?? (/^nova-[23]-/.test(model) ? new Set(ENGLISH_ONLY.split(' ')) : undefined);
  return !languages || languages.has(language.toLowerCase());
}

/** Deepgram's answer to a model that does not take the language asked for. */
export const NO_SUCH_MODEL = 'No such model/language/tier combination found.';

const MIN_SAMPLE_RATE = 8_000;
const MAX_SAMPLE_RATE = 48_000;
const MAX_CHANNELS = 32;
const DEFAULT_ENDPOINTING_MS = 10;

export function parseListenParams(query: URLSearchParams): ListenParams {
  const encoding = query.get('encoding');
  if (encoding === null) {
    throw new ListenParamError('The offline stand-in needs raw audio: set encoding=linear16 and sample_rate (containerised audio is not decoded).');
  }
  if (encoding !== 'linear16') {
    throw new ListenParamError(
      UPSTREAM_ENCODINGS.includes(encoding)
        ? `encoding=${encoding} is not decoded by the offline stand-in; send linear16.`
        : `Invalid encoding '${encoding}'. Supported encodings: ${UPSTREAM_ENCODINGS.join(', ')}.`,
    );
  }
  const sampleRate = integerParam(query, 'sample_rate', null);
  if (sampleRate === null) throw new ListenParamError('sample_rate is required with encoding=linear16.');
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new ListenParamError(`sample_rate must be between ${MIN_SAMPLE_RATE} and ${MAX_SAMPLE_RATE}, got ${sampleRate}.`);
  }
  const channels = integerParam(query, 'channels', 1);
  if (channels < 1 || channels > MAX_CHANNELS) throw new ListenParamError(`channels must be between 1 and ${MAX_CHANNELS}, got ${channels}.`);

  let endpointing: number | false = DEFAULT_ENDPOINTING_MS;
  const endpointingText = query.get('endpointing');
  if (endpointingText === 'false') endpointing = false;
  else if (endpointingText !== null && endpointingText !== 'true') endpointing = integerParam(query, 'endpointing', DEFAULT_ENDPOINTING_MS);

  const utteranceEndMs = integerParam(query, 'utterance_end_ms', null);
  if (utteranceEndMs !== null && utteranceEndMs < 1) throw new ListenParamError('utterance_end_ms must be a positive number of milliseconds.');

  const model = query.get('model') || 'base';
  const language = query.get('language') || 'en';
  if (!modelTakesLanguage(model, language)) throw new ListenParamError(NO_SUCH_MODEL);

  return {
    model,
    language,
    encoding,
    sampleRate,
    channels,
    interimResults: booleanParam(query, 'interim_results'),
    punctuate: booleanParam(query, 'smart_format') || booleanParam(query, 'punctuate'),
    vadEvents: booleanParam(query, 'vad_events'),
    endpointing,
    utteranceEndMs,
  };
}

function integerParam<T extends number | null>(query: URLSearchParams, name: string, fallback: T): number | T {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new ListenParamError(`${name} must be a non-negative integer, got '${text}'.`);
  return Number(text);
}

function booleanParam(query: URLSearchParams, name: string): boolean {
  const text = query.get(name);
  if (text === null || text === '') return false;
  if (text === 'true' || text === 'false') return text === 'true';
  throw new ListenParamError(`${name} must be true or false, got '${text}'.`);
}

/** The model description every Results and Metadata message of a stream carries. */
export function describeModel(model: string): { uuid: string; info: ModelInfo } {
  const hex = createHash('sha256').update(`offline-espeak-dtw:${model}`).digest('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return { uuid, info: { name: model, version: 'offline-espeak-phrases', arch: 'mfcc-dtw' } };
}
