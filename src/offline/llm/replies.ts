// What the LLM stand-in answers: the scripted table first, then the built-in replies of the
// question's language, else a default in that language that depends only on the question, so
// tests and benchmarks can predict every sentence. Like a real model, it answers in the language
// it was asked in (told apart by script: Cyrillic is Russian, Latin is English).
import { isRecord } from './protocol.js';

/** A scripted answer: when `match` matches the last user message, the stand-in answers `reply`. */
export interface ScriptedReply {
  /** A string matches as a case-insensitive substring; a RegExp as `text.search(match) >= 0`. */
  match: string | RegExp;
  reply: string;
}

/** `ScriptedReply` as JSON (`POST /_config`, `GET /_config`): a RegExp is `{regex, flags}`. */
export interface ScriptedReplyJson {
  match: string | { regex: string; flags?: string };
  reply: string;
}

/** The language a question is in, by its letters: `ru` for Cyrillic, `en` otherwise. */
export function questionLanguage(question: string): 'ru' | 'en' {
  const cyrillic = question.match(/\p{Script=Cyrillic}/gu)?.length ?? 0;
  const latin = question.match(/\p{Script=Latin}/gu)?.length ?? 0;
  return cyrillic > latin ? 'ru' : 'en';
}

/**
 * Scripted answers of each language to the offline Deepgram stand-in's phrases, after the
 * configured table: several sentences with the abbreviations, initials and numbers real replies
 * carry, so the sentence chunker and the avatar's voice meet them end to end.
 */
export const BUILT_IN_REPLIES: Readonly<Record<string, readonly ScriptedReply[]>> = {
  ru: [
    {
      match: 'какая сегодня погода',
      reply:
        'Сегодня в Москве облачно, около +3,5 °C, т. е. прохладно. Ветер северо-западный, 4–6 м/с, к вечеру до 10 м/с. ' +
        'По данным А. С. Попова из метеобюро, осадков до 2 мм. Возьмите зонт, шарф и т. д. Хорошего дня!',
    },
    {
      match: 'как тебя зовут',
      reply: 'Меня зовут Анна. Я аватар, т. е. говорящее лицо на экране. Мне 2,5 года, если считать с первой версии.',
    },
    {
      match: 'расскажи о себе',
      reply:
        'Я офлайн-аватар: лицо рисует программа, голос — espeak-ng. Речь распознаёт заменитель Deepgram, т. к. ключей нет. ' +
        'Отвечаю по сценарию, без настоящей модели. Зато всё работает на одном компьютере!',
    },
    {
      match: 'как дела',
      reply: 'Спасибо, хорошо! Работаю без перерыва уже 24 ч. А у вас как дела?',
    },
  ],
};

/**
 * The answer when no scripted reply matches: three sentences in the question's language, the
 * first repeating the question (whitespace collapsed, trailing punctuation dropped).
 */
export function defaultReply(question: string): string {
  const asked = question.replace(/\s+/g, ' ').trim().replace(/[\s.?!…]+$/u, '');
  if (questionLanguage(question) === 'ru') {
    return `Вы спросили: «${asked}». Я офлайн-заменитель языковой модели, т. е. этот ответ заготовлен заранее. Подключите настоящую модель, и ответы станут настоящими.`;
  }
  if (!asked) return 'I did not catch a question. I am the offline stand-in for the language model. Ask me anything, and I will answer.';
  return `You asked: ${asked}. I am the offline stand-in for the language model, so this answer is scripted. Connect a real model to get real answers.`;
}

/**
 * The reply to `question`: the first of `replies` that matches, else the first built-in reply of
 * its language that does, else `defaultReply(question)`.
 */
export function chooseReply(question: string, replies: readonly ScriptedReply[]): string {
  const lower = question.toLowerCase();
  for (const { match, reply } of [...replies, ...(BUILT_IN_REPLIES[questionLanguage(question)] ?? [])]) {
    if (typeof match === 'string' ? lower.includes(match.toLowerCase()) : question.search(match) >= 0) return reply;
  }
  return defaultReply(question);
}

/** Checks a reply table given in code; throws a TypeError naming the bad entry. */
export function checkReplies(replies: unknown): ScriptedReply[] {
  if (!Array.isArray(replies)) throw new TypeError('replies must be an array of {match, reply}');
  return replies.map((entry: unknown, i) => {
    if (!isRecord(entry) || typeof entry.reply !== 'string' || !(typeof entry.match === 'string' || entry.match instanceof RegExp)) {
      throw new TypeError(`replies[${i}] must be {match: string | RegExp, reply: string}`);
    }
    return { match: entry.match, reply: entry.reply };
  });
}

/** Reads a reply table sent as JSON; throws a TypeError (or a RegExp's SyntaxError) naming the bad entry. */
export function repliesFromJson(replies: unknown): ScriptedReply[] {
  if (!Array.isArray(replies)) throw new TypeError('replies must be an array of {match, reply}');
  return replies.map((entry: unknown, i) => {
    if (!isRecord(entry) || typeof entry.reply !== 'string') throw new TypeError(`replies[${i}] must be {match, reply: string}`);
    const { match } = entry;
    if (typeof match === 'string') return { match, reply: entry.reply };
    if (isRecord(match) && typeof match.regex === 'string' && (match.flags === undefined || typeof match.flags === 'string')) {
      try {
        return { match: new RegExp(match.regex, match.flags), reply: entry.reply };
      } catch (err) {
        throw new SyntaxError(`replies[${i}].match: ${(err as Error).message}`);
      }
    }
    throw new TypeError(`replies[${i}].match must be a string or {regex: string, flags?: string}`);
  });
}

export function repliesToJson(replies: readonly ScriptedReply[]): ScriptedReplyJson[] {
  return replies.map(({ match, reply }) => ({ match: typeof match === 'string' ? match : { regex: match.source, flags: match.flags }, reply }));
}
