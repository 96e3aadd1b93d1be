// What the LLM stand-in answers: the scripted table first, else a default that depends only on
// the question, so tests and benchmarks can predict every sentence.
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

/**
 * The answer when no scripted reply matches: three sentences, the first repeating the question
 * (whitespace collapsed, trailing punctuation dropped).
 */
export function defaultReply(question: string): string {
  const asked = question.replace(/\s+/g, ' ').trim().replace(/[\s.?!…]+$/u, '');
  if (!asked) return 'I did not catch a question. I am the offline stand-in for the language model. Ask me anything, and I will answer.';
  return `You asked: ${asked}. I am the offline stand-in for the language model, so this answer is scripted. Connect a real model to get real answers.`;
}

/** The reply to `question`: the first scripted reply that matches, else `defaultReply(question)`. */
export function chooseReply(question: string, replies: readonly ScriptedReply[]): string {
  const lower = question.toLowerCase();
  for (const { match, reply } of replies) {
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
