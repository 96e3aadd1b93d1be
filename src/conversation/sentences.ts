// Cuts streamed LLM text into sentences, so each can be spoken as soon as it is complete.
// DOM-free; used by the conversation with every chunk the LLM yields.

const TERMINATORS = '.!?…。！？';
/** Full stops of Chinese and Japanese: a sentence ends at them with no space after. */
const CJK_TERMINATORS = '。！？';
const CLOSERS = '"\'”’»)]」』）】';
const QUOTE_CLOSERS = '"\'”’»」』';
const CJK_OPENERS = '「『（【“';
/** A dash after a closing quote carries on the sentence: «Да!» — сказал он. */
const DASHES = '—–-';

/** Words that end with a dot but rarely end a sentence (English and Russian), lower case, inner spaces dropped. */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'inc', 'ltd', 'no', 'approx', 'a.m', 'p.m',
  'т.е', 'т.к', 'т.д', 'т.п', 'т.н', 'и.о', 'др', 'пр', 'им', 'г', 'гг', 'ул', 'см', 'стр', 'руб', 'коп', 'тыс', 'млн', 'млрд',
  'проф', 'акад', 'доц', 'напр', 'рис', 'табл', 'гл', 'ок', 'мин', 'сек', 'макс', 'обл', 'пос', 'кв', 'св',
]);
/** Of those, the ones a sentence often ends with («и т. д.», "etc."): they end it when a capital follows. */
const MAY_END = new Set(['etc', 'inc', 'ltd', 'no', 'a.m', 'p.m', 'т.д', 'т.п', 'др', 'пр', 'тыс', 'млн', 'млрд', 'руб', 'коп']);

const isUpper = (ch: string | undefined) => !!ch && /\p{Lu}/u.test(ch);
const isLower = (ch: string | undefined) => !!ch && /\p{Ll}/u.test(ch);

export interface SentenceChunkerOptions {
  /** A sentence longer than this is cut at the last comma or space before it (default 250). */
  maxLength?: number;
}

/** What a terminator does: ends the sentence, does not, or cannot tell until more text arrives. */
type Verdict = 'end' | 'continue' | 'wait';

/**
 * Streaming sentence splitter: `push()` text as it arrives and get back the sentences it completed;
 * `flush()` at the end returns what is left.
 *
 * A sentence ends at `. ! ? …` (with any closing quotes or brackets) when whitespace follows, at
 * `。！？` at once, and at the end of the text received so far when nothing that may still come
 * could carry it on, so the first sentence leaves without waiting for the next token. Not at a
 * decimal point (3.5), an initial («А. С. Пушкин»), an abbreviation («т. е.», "e.g.") unless it may
 * end a sentence and a capital follows («и т. д. Потом»), an ellipsis followed by a lower-case
 * word, or a closing quote followed by a dash or a lower-case word. A blank line also ends a sentence.
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
      const verdict = this.#judge(i, j);
      if (verdict === 'end') return j;
      if (verdict === 'wait') return -1;
      i = j - 1;
    }
    if (b.length > this.#maxLength) return this.#cut();
    return -1;
  }

  /** Whether the terminators and closers in [i, j) end a sentence. */
  #judge(i: number, j: number): Verdict {
    const b = this.#buffer;
    const run = b.slice(i, j);
    const cjk = [...run].some((ch) => CJK_TERMINATORS.includes(ch));
    let k = j;
    while (k < b.length && /\s/.test(b[k])) k++;
    const spaced = k > j;
    /** The next visible character; undefined while it has not arrived. */
    const next = b[k];
    // Glued to what follows: a decimal point, "т.е.", "Hello.World".
    if (j < b.length && !spaced && !cjk) return 'continue';
    const ellipsis = run.startsWith('…') || run.startsWith('...');
    if (b[i] === '.' && !ellipsis) {
      const kind = this.#abbreviation(i);
      if (kind === 'fixed' || kind === 'initial') return 'continue';
      if (kind === 'may-end') return next === undefined ? 'wait' : isUpper(next) ? 'end' : 'continue';
      // A number may go on after its point (3.5) once more text comes.
      if (j === b.length && /\d/.test(b[i - 1] ?? '')) return 'wait';
    }
    if (ellipsis) return next === undefined ? 'wait' : isLower(next) ? 'continue' : 'end';
    if ([...run].some((ch) => QUOTE_CLOSERS.includes(ch))) {
      if (next === undefined) return 'wait';
      if (cjk && !spaced) return CJK_OPENERS.includes(next) ? 'end' : 'continue';
      return isLower(next) || DASHES.includes(next) ? 'continue' : 'end';
    }
    // At the end of the text so far: a closing quote or bracket may still come.
    if (j === b.length && hasOpenQuote(b.slice(0, j))) return 'wait';
    return 'end';
  }

  /**
   * What the word before the dot at `dot` is: an initial (one capital letter), an abbreviation that
   * never ends a sentence, one that may, or none. «т. е.» and «т.е.» are the same abbreviation.
   */
  #abbreviation(dot: number): 'initial' | 'fixed' | 'may-end' | undefined {
    const before = this.#buffer.slice(0, dot);
    const compound = /((?:\p{L}{1,5}\.\s?)*\p{L}+)$/u.exec(before)?.[1];
    // A word on its own, not the end of «м/с» or "km/h".
    if (!compound || !/^$|[\s(«"“„]$/u.test(before.slice(0, before.length - compound.length))) return undefined;
    const word = compound.slice(compound.search(/\p{L}+$/u));
    const key = compound.replace(/\s/g, '').toLowerCase();
    const last = word.toLowerCase();
    if (/^\p{Lu}$/u.test(word) && !ABBREVIATIONS.has(key)) return 'initial';
    // «г.» after a number is a year and may end a sentence; before a name («г. Москва») it is a town.
    if ((last === 'г' || last === 'гг') && /\d\s*$/u.test(before.slice(0, before.length - word.length))) return 'may-end';
    if (MAY_END.has(key) || (!ABBREVIATIONS.has(key) && MAY_END.has(last))) return 'may-end';
    if (ABBREVIATIONS.has(key) || ABBREVIATIONS.has(last) || /^\p{Ll}$/u.test(word)) return 'fixed';
    return undefined;
  }

  /** Where to cut an over-long sentence: after the last comma-like mark, else at the last space. */
  #cut(): number {
    const head = this.#buffer.slice(0, this.#maxLength);
    const marks = [', ', '; ', ': ', '，', '、', '；', '：'].map((m) => (head.lastIndexOf(m) < 0 ? -1 : head.lastIndexOf(m) + 1));
    const cut = Math.max(...marks);
    if (cut > this.#maxLength / 3) return cut;
    const space = head.lastIndexOf(' ');
    return space > 0 ? space : this.#maxLength;
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
    count('「') > count('」') ||
    count('『') > count('』') ||
    count('（') > count('）') ||
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
