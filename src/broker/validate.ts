// Field-by-field checks of what the browser sends, with messages that say what is wrong and what
// is allowed. Unknown fields are refused too: a typo should not pass silently.
import type { LlmRouteRequest, SessionRequest } from '../shared/contract.js';
import { BCP47, languageAllowed, type ResolvedBrokerConfig } from './config.js';
import { BrokerHttpError } from './errors.js';

/** A session request with every default applied. */
export interface SessionParams {
  avatarId: string;
  quality: NonNullable<SessionRequest['quality']>;
  voiceId?: string;
  voiceRate: number;
  language: string;
  sttModel: string;
}

const SESSION_FIELDS = new Set(['avatarId', 'quality', 'voiceId', 'voiceRate', 'language', 'sttModel']);
const QUALITIES = ['low', 'medium', 'high'] as const;
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

function bad(message: string): BrokerHttpError {
  return new BrokerHttpError('bad_request', message);
}

function listed(values: readonly string[], max = 10): string {
  const shown = values.slice(0, max).join(', ');
  return values.length > max ? `${shown}, …` : shown;
}

export function validateSessionRequest(body: Record<string, unknown>, config: ResolvedBrokerConfig): SessionParams {
  for (const key of Object.keys(body)) {
    if (!SESSION_FIELDS.has(key)) throw bad(`unknown field "${clip(key)}"; a session request may have ${[...SESSION_FIELDS].join(', ')}`);
  }
  const req = body as SessionRequest & Record<string, unknown>;
  const str = (name: string, v: unknown): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw bad(`"${name}" must be a string`);
    return v;
  };

  const avatarId = str('avatarId', req.avatarId) ?? config.avatarIds[0];
  if (!config.avatarIds.includes(avatarId)) throw bad(`avatar "${clip(avatarId)}" is not offered here; allowed: ${listed(config.avatarIds)}`);

  const quality = str('quality', req.quality) ?? config.defaultQuality;
  if (!QUALITIES.includes(quality as never)) throw bad(`"quality" must be low, medium or high, not "${clip(quality)}"`);

  const voiceId = str('voiceId', req.voiceId);
  if (voiceId !== undefined) {
    if (!ID.test(voiceId)) throw bad('"voiceId" must be 1–128 letters, digits, _ . : or -');
    if (config.voiceIds && !config.voiceIds.includes(voiceId)) throw bad(`voice "${voiceId}" is not offered here; allowed: ${listed(config.voiceIds)}`);
  }

  let voiceRate = 1;
  if (req.voiceRate !== undefined && req.voiceRate !== null) {
    if (typeof req.voiceRate !== 'number' || !Number.isFinite(req.voiceRate)) throw bad('"voiceRate" must be a number from 0.5 to 1.5');
    if (req.voiceRate < 0.5 || req.voiceRate > 1.5) throw bad(`"voiceRate" must be from 0.5 to 1.5, not ${req.voiceRate}`);
    voiceRate = req.voiceRate;
  }

  const language = str('language', req.language) ?? config.defaultLanguage;
  if (!BCP47.test(language) || language.length > 35) throw bad(`"language" must be a BCP-47 tag such as ru or en-US, not "${clip(language)}"`);
  if (!languageAllowed(language, config.languages)) throw bad(`language "${language}" is not offered here; allowed: ${listed(config.languages)}`);

  const sttModel = str('sttModel', req.sttModel) ?? config.sttModels[0] ?? 'nova-2';
  if (!config.sttModels.includes(sttModel)) throw bad(`STT model "${clip(sttModel)}" is not offered here; allowed: ${listed(config.sttModels)}`);

  return { avatarId, quality: quality as SessionParams['quality'], ...(voiceId ? { voiceId } : {}), voiceRate, language, sttModel };
}

/** Checks an LLM route request; keeps the latest `maxHistoryMessages`, cuts older long messages. */
export function validateLlmRequest(body: Record<string, unknown>, limits: { maxHistoryMessages: number; maxMessageChars: number }): LlmRouteRequest['messages'] {
  for (const key of Object.keys(body)) if (key !== 'messages') throw bad(`unknown field "${clip(key)}"; an LLM request has only "messages"`);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw bad('"messages" must be a non-empty array of {role, content}');
  if (messages.length > 1000) throw bad('"messages" has more than 1000 entries');
  const out: LlmRouteRequest['messages'] = [];
  messages.forEach((m: unknown, i) => {
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw bad(`messages[${i}] must be an object {role, content}`);
    const { role, content, ...rest } = m as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra) throw bad(`messages[${i}] has an unknown field "${clip(extra)}"`);
    if (role !== 'user' && role !== 'assistant') throw bad(`messages[${i}].role must be "user" or "assistant"`);
    if (typeof content !== 'string') throw bad(`messages[${i}].content must be a string`);
    out.push({ role, content });
  });
  const last = out[out.length - 1];
  if (last.role !== 'user') throw bad('the last message must be the user\'s');
  if (!last.content.trim()) throw bad('the user\'s message is empty');
  if (last.content.length > limits.maxMessageChars) throw bad(`the user's message is longer than ${limits.maxMessageChars} characters`);
  return out
    .slice(-limits.maxHistoryMessages)
    .filter((m) => m.content.trim())
    .map((m) => (m.content.length > limits.maxMessageChars ? { role: m.role, content: m.content.slice(0, limits.maxMessageChars) } : m));
}

/** What the browser sent, as an error message may repeat it: printable ASCII, at most 40 characters. */
function clip(s: string): string {
  const printable = s.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable;
}
