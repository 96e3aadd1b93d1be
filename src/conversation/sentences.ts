// Cuts streamed LLM text into sentences, so each can be spoken as soon as it is complete.
// DOM-free; used by the conversation with every chunk the LLM yields.

const TERMINATORS = '.!?…。！？';
const CLOSERS = '"\'”’»)]';
/** Words that end with a dot but rarely end a sentence (English and Russian). */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'inc', 'ltd', 'no', 'approx',
  'т.е', 'т.к', 'т.д', 'т.п', 'др', 'им', 'г', 'гг', 'ул', 'см', 'стр', 'руб', 'тыс', 'млн', 'млрд', 'проф',
]);

export interface SentenceChunkerOptions {
  /** A sentence longer than this is cut at the last comma or space before it (default 250). */
  maxLength?: number;
}

/**
 * Streaming sentence splitter: `push()` text as it arrives and get back the sentences it completed;
 * `flush()` at the end returns what is left.
 *
 * A sentence ends at `. ! ? …` (with any closing quotes or brackets) when whitespace follows, or at
 * the end of the text received so far when it cannot be a decimal number or an abbreviation, so the
 * first sentence leaves without waiting for the next token. A blank line also ends a sentence.
 */
export class SentenceChunker {
  #buffer = '';
  readonly #maxLength: number;

  constructor(options: SentenceChunkerOptions = {}) {
    this.#maxLength = options.maxLength ?? 250;
  }

  push(text: string): string[] {
    this.#buffer += text;
    const out: string[] = [];
    for (;;) {
      const end = this.#findEnd();
      if (end < 0) break;
      const sentence = this.#buffer.slice(0, end).trim();
      this.#buffer = this.#buffer.slice(end).replace(/^\s+/, '');
      if (sentence) out.push(sentence);
    }
    return out;
  }

  flush(): string | undefined {
    const rest = this.#buffer.trim();
    this.#buffer = '';
    return rest || undefined;
  }

  #findEnd(): number {
    const b = this.#buffer;
    const limit = Math.min(b.length, this.#maxLength);
    for (let i = 0; i < limit; i++) {
      const c = b[i];
      if (c === '\n' && b[i + 1] === '\n') return i;
      if (!TERMINATORS.includes(c)) continue;
      let j = i + 1;
      while (j < b.length && (TERMINATORS.includes(b[j]) || CLOSERS.includes(b[j]))) j++;
      if (j < b.length) {
        if (/\s/.test(b[j]) && !this.#isAbbreviation(i)) return j;
        i = j - 1;
        continue;
      }
      // The terminator ends the text received so far: a closing quote or a digit may still follow.
      if (hasOpenQuote(b.slice(0, j))) return -1;
      if (c === '.' && (/\d/.test(b[i - 1] ?? '') || this.#isAbbreviation(i))) return -1;
      return j;
    }
    if (b.length > this.#maxLength) {
      const head = b.slice(0, this.#maxLength);
      const cut = Math.max(head.lastIndexOf(', '), head.lastIndexOf('; '), head.lastIndexOf(': '));
      return cut > this.#maxLength / 3 ? cut + 1 : Math.max(head.lastIndexOf(' '), 1);
    }
    return -1;
  }

  #isAbbreviation(dot: number): boolean {
    if (this.#buffer[dot] !== '.') return false;
    const word = this.#buffer.slice(0, dot).match(/([\p{L}.]+)$/u)?.[1]?.toLowerCase() ?? '';
    // Single letters ("J. Smith") and known short forms.
    return ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word);
  }
}

/** True when the text opened a quote or bracket it has not closed yet. */
function hasOpenQuote(text: string): boolean {
  const count = (ch: string) => text.split(ch).length - 1;
  return (
    count('«') > count('»') ||
    count('“') > count('”') ||
    count('(') > count(')') ||
    count('[') > count(']') ||
    count('"') % 2 === 1
  );
}

/** Splits a whole text into sentences. */
export function splitSentences(text: string, options?: SentenceChunkerOptions): string[] {
  const chunker = new SentenceChunker(options);
  const out = chunker.push(text);
  const rest = chunker.flush();
  return rest ? [...out, rest] : out;
}
