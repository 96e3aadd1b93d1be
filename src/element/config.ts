// Attribute values → the element's effective configuration, with a problem message for every
// value that is not valid (the default is used instead). DOM-free, so it is unit-tested in Node.

export type Quality = 'low' | 'medium' | 'high';
export type Layout = 'inline' | 'compact' | 'floating';

export interface AvatarAttributes {
  avatarId?: string | null;
  quality?: string | null;
  voiceId?: string | null;
  voiceRate?: string | null;
  language?: string | null;
  sttModel?: string | null;
  endpointing?: string | null;
  utteranceEndMs?: string | null;
  layout?: string | null;
  tokenEndpoint?: string | null;
  llmEndpoint?: string | null;
  noPreemptive?: boolean | null;
}

export interface AvatarConfig {
  avatarId?: string;
  quality: Quality;
  voiceId?: string;
  voiceRate: number;
  language: string;
  sttModel: string;
  /** Silence (ms) that ends a spoken turn. */
  endpointing: number;
  utteranceEndMs: number;
  layout: Layout;
  tokenEndpoint?: string;
  llmEndpoint?: string;
  /** Preemptive replies: the LLM is asked at the visitor's first pause, before the turn is confirmed. */
  preemptive: boolean;
}

/**
 * Defaults. `endpointing` 400 ms: Deepgram's own 10 ms default ends a turn at every breath; 300–500 ms
 * is where conversation feels natural, and `UtteranceEnd` (1000 ms) catches what it misses.
 * `preemptive` on: in `npm run bench:latency` it put the first sentence on the wire 291 ms sooner at
 * p50 (end of speech → first avatar task 970 → 679 ms) and cancelled no speculative call in 20 turns
 * (on by default only while it helps and wastes at most one call in three).
 */
export const DEFAULTS = {
  quality: 'medium' as Quality,
  voiceRate: 1,
  language: 'ru',
  sttModel: 'nova-2',
  endpointing: 400,
  utteranceEndMs: 1000,
  layout: 'inline' as Layout,
  preemptive: true,
};

const BCP47 = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/;
const URLISH = /^(https?:\/\/|\/|\.\.?\/)[^\s]*$/;

/** The page's language around `el`: the nearest `lang`. */
export function pageLanguage(el: Element): string {
  return el.closest('[lang]')?.getAttribute('lang') ?? document.documentElement.lang;
}

/** Parses an element's attributes, its page's language being the nearest `lang` around it. */
export function parseElement(el: AvatarAttributes & Element): { config: AvatarConfig; problems: string[] } {
  return parseAttributes(el, pageLanguage(el));
}

/** The conversation language: the `language` attribute if it is a BCP-47 tag, else the page's, else the default. */
export function conversationLanguage(language: string | null | undefined, fallbackLanguage?: string): string {
  if (language && BCP47.test(language)) return language;
  return fallbackLanguage && BCP47.test(fallbackLanguage) ? fallbackLanguage : DEFAULTS.language;
}

/** Parses the attributes; `fallbackLanguage` is the nearest `lang` in the page. */
export function parseAttributes(a: AvatarAttributes, fallbackLanguage?: string): { config: AvatarConfig; problems: string[] } {
  const problems: string[] = [];
  const bad = (attr: string, value: string, expected: string) =>
    problems.push(`${attr}="${value}" is not valid (expected ${expected}); using the default`);

  const config: AvatarConfig = { ...DEFAULTS, language: DEFAULTS.language };

  if (a.avatarId != null && a.avatarId !== '') {
    if (/^[\w.-]{1,128}$/.test(a.avatarId)) config.avatarId = a.avatarId;
    else bad('avatar-id', a.avatarId, 'letters, digits, _ . -');
  }
  if (a.quality != null) {
    if (['low', 'medium', 'high'].includes(a.quality)) config.quality = a.quality as Quality;
    else bad('quality', a.quality, 'low, medium or high');
  }
  if (a.voiceId != null && a.voiceId !== '') {
    if (/^[\w.-]{1,128}$/.test(a.voiceId)) config.voiceId = a.voiceId;
    else bad('voice-id', a.voiceId, 'a voice id');
  }
  if (a.voiceRate != null) {
    const n = Number(a.voiceRate);
    if (a.voiceRate.trim() !== '' && Number.isFinite(n) && n >= 0.5 && n <= 1.5) config.voiceRate = n;
    else bad('voice-rate', a.voiceRate, 'a number from 0.5 to 1.5');
  }
  config.language = conversationLanguage(a.language, fallbackLanguage);
  if (a.language && !BCP47.test(a.language)) bad('language', a.language, 'a BCP-47 tag such as ru or en-US');
  if (a.sttModel != null && a.sttModel !== '') {
    if (/^[\w.-]{1,64}$/.test(a.sttModel)) config.sttModel = a.sttModel;
    else bad('stt-model', a.sttModel, 'a Deepgram model name such as nova-2');
  }
  const integer = (attr: string, value: string | null | undefined, min: number, max: number, set: (n: number) => void) => {
    if (value == null) return;
    const n = Number(value);
    if (value.trim() !== '' && Number.isInteger(n) && n >= min && n <= max) set(n);
    else bad(attr, value, `a whole number of milliseconds from ${min} to ${max}`);
  };
  integer('endpointing', a.endpointing, 10, 5000, (n) => (config.endpointing = n));
  integer('utterance-end-ms', a.utteranceEndMs, 1000, 5000, (n) => (config.utteranceEndMs = n));
  if (a.layout != null) {
    if (['inline', 'compact', 'floating'].includes(a.layout)) config.layout = a.layout as Layout;
    else bad('layout', a.layout, 'inline, compact or floating');
  }
  for (const [attr, key] of [['token-endpoint', 'tokenEndpoint'], ['llm-endpoint', 'llmEndpoint']] as const) {
    const value = a[key];
    if (value == null || value === '') continue;
    if (URLISH.test(value)) config[key] = value;
    else bad(attr, value, 'an http(s) URL or a path');
  }
  if (a.noPreemptive) config.preemptive = false;
  return { config, problems };
}
