// The phrases the Deepgram stand-in recognises, language by language, and how a listed phrase
// becomes Deepgram's words: `word` lower case without punctuation, `punctuated_word` as listed.
import { readFileSync } from 'node:fs';

/**
 * What the stand-in recognises unless told otherwise: the demo's conversation openers in English
 * and Russian. Listed as a transcript should read them (smart_format's capitals and punctuation).
 */
export const DEFAULT_PHRASES: Readonly<Record<string, readonly string[]>> = {
  en: [
    'Hello.',
    'Hi there.',
    'How are you?',
    'What is your name?',
    'What is the weather like today?',
    'Tell me a joke.',
    'Tell me about yourself.',
    'What can you do?',
    'Can you hear me?',
    'Thank you.',
    'Yes.',
    'No.',
    'Stop.',
    'Goodbye.',
  ],
  ru: [
    'Привет.',
    'Здравствуйте.',
    'Как дела?',
    'Как тебя зовут?',
    'Какая сегодня погода?',
    'Расскажи анекдот.',
    'Расскажи о себе.',
    'Что ты умеешь?',
    'Ты меня слышишь?',
    'Спасибо.',
    'Да.',
    'Нет.',
    'Стоп.',
    'До свидания.',
  ],
};

/** A listed phrase as the recogniser speaks and reports it. */
export interface Phrase {
  /** As listed. */
  text: string;
  /** The listed words with their punctuation, as espeak-ng speaks them (a comma is a pause, a question mark a rise). */
  spoken: string[];
  /** Deepgram's `word`s: lower case, letters, digits, apostrophes and inner hyphens only. */
  words: string[];
  /** Deepgram's `punctuated_word`s under smart_format: as listed, with a capital and a full stop added where missing. */
  punctuated: string[];
}

const END_MARK = /[.?!…]$/u;

/** Splits a listed phrase into words; `undefined` when it has none. */
export function parsePhrase(text: string, language: string): Phrase | undefined {
  if (typeof text !== 'string') return undefined;
  const tokens = text.trim().split(/\s+/u).filter((t) => /[\p{L}\p{N}]/u.test(t));
  if (!tokens.length) return undefined;
  const words = tokens.map((t) =>
    t
      .toLocaleLowerCase(language)
      .replace(/[^\p{L}\p{N}'’.,-]+/gu, '')
      .replace(/(?<!\p{N})[.,]|[.,](?!\p{N})/gu, '')
      .replace(/^[-'’]+|[-'’]+$/gu, ''),
  );
  const punctuated = [...tokens];
  punctuated[0] = punctuated[0].charAt(0).toLocaleUpperCase(language) + punctuated[0].slice(1);
  if (!END_MARK.test(punctuated.at(-1)!)) punctuated[punctuated.length - 1] += '.';
  return { text: text.trim(), spoken: tokens, words, punctuated };
}

/** The phrase's punctuated words for an interim result of its first `count` words: no closing mark. */
export function interimWords(phrase: Phrase, count: number): string[] {
  const out = phrase.punctuated.slice(0, count);
  out[out.length - 1] = out[out.length - 1].replace(/[.?!…,;:]+$/u, '');
  return out;
}

/** The key phrase lists are kept under: the lower-case primary language subtag (`en-US` → `en`). */
export function languageKey(language: string): string {
  return language.toLowerCase().split('-')[0];
}

/**
 * `--phrases LANG=FILE` (repeatable): the file's lines (blank lines and `#` comments skipped) are
 * added to LANG's phrase list.
 */
export function extraPhrasesFrom(argv: string[]): Record<string, string[]> {
  const extra: Record<string, string[]> = {};
  argv.forEach((arg, i) => {
    if (arg !== '--phrases') return;
    const match = /^([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)=(.+)$/.exec(argv[i + 1] ?? '');
    if (!match) throw new Error(`--phrases takes LANG=FILE (such as ru=phrases-ru.txt), got ${argv[i + 1] ?? 'nothing'}`);
    const lines = readFileSync(match[2], 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    (extra[match[1]] ??= []).push(...lines);
  });
  return extra;
}
