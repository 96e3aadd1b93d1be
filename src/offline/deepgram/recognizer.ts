// Speech recognition for the Deepgram stand-in, in any language espeak-ng speaks: each speech
// segment is compared with the stand-in's own espeak-ng renderings of that language's phrase list
// (MFCC + delta features, dynamic time warping) and comes out as the phrase it matches, or as
// nothing. No acoustic model is needed, so Russian works as English does (no Russian model ships
// with Debian or npm); what it recognises is espeak-ng's speech of the listed phrases.
//
// Honesty over recall: a segment is a phrase only if the whole of it lines up with the whole of
// the phrase and no stretch of the alignment is poor. Speech that is not on the list — a different
// phrase, or a listed one with a word added or changed — comes out empty, never as a phrase it was
// not. Measured on espeak-ng speech (scripts/recognizer-accuracy.mjs): the worst stretch of
// listed phrases at 130–210 words a minute is ≤ 3.5, of unlisted ones ≥ 4.9; the limit sits between.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { alignPrefix, alignWhole, type Alignment } from './alignment.js';
import { extractFeatures, frameSeconds, type Features } from './features.js';
import { interimWords, languageKey, parsePhrase, type Phrase } from './phrases.js';
import { buildTemplates, type PhraseTemplate } from './templates.js';

/** A segment matches a phrase when no 200 ms stretch of their alignment is further apart than this… */
export const MAX_WORST = 4.4;
/** …and the alignment as a whole is no further apart than this. */
const MAX_DISTANCE = 3.9;
/** Fewer voiced frames than this (80 ms) is a click or a breath, not a word. */
const MIN_FRAMES = 8;
/**
 * An interim counts a word once the alignment has reached this far into it: an open-ended
 * alignment of finished speech may stop a few frames short of the phrase's end.
 */
const WORD_HEARD = 0.8;

/** A recognised word, times in seconds from the start of the audio given to `recognize`. */
export interface RecognizedWord {
  word: string;
  /** The word as a smart-formatted transcript shows it (capital, punctuation). */
  punctuated: string;
  start: number;
  end: number;
  confidence: number;
}

/**
 * `final` decodes a speech segment as one whole phrase; `interim` as the beginning of one, so
 * speech that is still going on comes out as the words so far.
 */
export type RecognitionKind = 'final' | 'interim';

interface Job {
  kind: RecognitionKind;
  run: () => Promise<void>;
  cancel: (reason: Error) => void;
}

/** Phrase lists by language; create with `PhraseRecognizer.create()`. */
export class PhraseRecognizer {
  readonly #templates = new Map<string, PhraseTemplate[]>();
  readonly #queue: Job[] = [];
  #running = false;
  #closed = false;

  private constructor() {}

  /**
   * Renders every language's phrases with espeak-ng. Rejects if espeak-ng or sox is missing, or a
   * list is empty.
   */
  static async create(lists: Readonly<Record<string, readonly string[]>>): Promise<PhraseRecognizer> {
    const recognizer = new PhraseRecognizer();
    await Promise.all(Object.entries(lists).map(([language, phrases]) => recognizer.setPhrases(language, phrases)));
    return recognizer;
  }

  /** The languages with a phrase list (primary subtags). */
  get languages(): string[] {
    return [...this.#templates.keys()];
  }

  /** `language`'s phrases as listed (empty when it has none). */
  phrases(language: string): readonly string[] {
    return (this.#templates.get(languageKey(language)) ?? []).map((t) => t.phrase.text);
  }

  /**
   * Replaces `language`'s phrases once they are rendered; decodes already running finish with the
   * old ones. Rejects with a TypeError when no phrase has a word in it.
   */
  async setPhrases(language: string, phrases: readonly string[]): Promise<void> {
    const key = languageKey(language);
    if (!/^[a-z]{2,3}$/.test(key)) throw new TypeError(`phrase lists are kept by language (such as en or ru), not "${language}"`);
    const parsed = dedupe(phrases.map((p) => parsePhrase(p, key)).filter((p): p is Phrase => !!p));
    if (!parsed.length) throw new TypeError(`the ${key} phrase list must contain at least one phrase with a word in it`);
    this.#templates.set(key, await buildTemplates(parsed, key));
  }

  /**
   * Decodes 16 kHz mono 16-bit audio in `language` (`multi`: every language listed) into the words
   * of the phrase it is; empty when it is none of them or the language has no phrases.
   */
  recognize(audio: Int16Array, kind: RecognitionKind, language: string): Promise<RecognizedWord[]> {
    if (this.#closed) return Promise.reject(new Error('the recogniser is closed'));
    const key = languageKey(language);
    const templates = key === 'multi' ? [...this.#templates.values()].flat() : (this.#templates.get(key) ?? []);
    return new Promise<RecognizedWord[]>((resolve, reject) => {
      const run = () => decode(audio, kind, templates).then(resolve, reject);
      this.#queue.push({ kind, run, cancel: reject });
      void this.#next();
    });
  }

  /** Cancels the decodes still waiting. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.cancel(new Error('the recogniser is closed'));
  }

  /** One decode at a time (they share the event loop), final ones ahead of interim ones. */
  async #next(): Promise<void> {
    if (this.#running || this.#closed || !this.#queue.length) return;
    const finalIndex = this.#queue.findIndex((job) => job.kind === 'final');
    const [job] = this.#queue.splice(finalIndex >= 0 ? finalIndex : 0, 1);
    this.#running = true;
    try {
      await job.run();
    } finally {
      this.#running = false;
      void this.#next();
    }
  }
}

/** How many words of a phrase whose words end at `wordEnds` the first `frames` template frames hold. */
function wordsHeard(wordEnds: readonly number[], frames: number): number {
  let count = 0;
  for (let n = 0; n < wordEnds.length; n++) {
    const start = n === 0 ? 0 : wordEnds[n - 1] + 1;
    if (frames - 1 < start + WORD_HEARD * (wordEnds[n] - start)) break;
    count++;
  }
  return count;
}

function dedupe(phrases: Phrase[]): Phrase[] {
  const seen = new Set<string>();
  return phrases.filter((p) => {
    const key = p.words.join(' ');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface Match {
  template: PhraseTemplate;
  alignment: Alignment;
  /** Words of the phrase covered: all for a final, those completed so far for an interim. */
  count: number;
}

async function decode(audio: Int16Array, kind: RecognitionKind, templates: readonly PhraseTemplate[]): Promise<RecognizedWord[]> {
  const features = extractFeatures(audio);
  if (features.frames < MIN_FRAMES) return [];
  let best: Match | undefined;
  for (const template of templates) {
    const alignment = kind === 'final' ? alignWhole(features, template.features) : alignPrefix(features, template.features);
    // Each alignment is a few milliseconds of work: let sockets and timers run between them.
    await yieldToEventLoop();
    if (!alignment || alignment.worst > MAX_WORST || alignment.distance > MAX_DISTANCE) continue;
    const count = kind === 'final' ? template.wordEnds.length : wordsHeard(template.wordEnds, alignment.bFrames);
    if (!count) continue;
    if (!best || alignment.distance < best.alignment.distance) best = { template, alignment, count };
  }
  return best ? wordsOf(best, features, kind) : [];
}

/** The matched words with their times in the received audio, from where the alignment put them. */
function wordsOf({ template, alignment, count }: Match, features: Features, kind: RecognitionKind): RecognizedWord[] {
  const { phrase, wordEnds } = template;
  const punctuated = kind === 'final' ? phrase.punctuated : interimWords(phrase, count);
  const confidence = Math.round(Math.max(0, Math.min(1, 1 - alignment.distance / (2 * MAX_DISTANCE))) * 1000) / 1000;
  const lastRow = features.frames - 1;
  const rowAt = (templateFrame: number) => {
    const row = alignment.aFrameOf[Math.min(templateFrame, alignment.bFrames - 1)];
    return row < 0 ? lastRow : row;
  };
  const round = (seconds: number) => Math.round(seconds * 1000) / 1000;
  const words: RecognizedWord[] = [];
  let previousEnd = 0;
  for (let n = 0; n < count; n++) {
    const startRow = rowAt(n === 0 ? 0 : wordEnds[n - 1] + 1);
    // A word ends where the next one's first aligned row begins (or at the end of the speech).
    const endRow = Math.max(startRow, wordEnds[n] + 1 < alignment.bFrames ? rowAt(wordEnds[n] + 1) - 1 : lastRow);
    const start = Math.max(previousEnd, round(frameSeconds(features.frameIndex[startRow])));
    const end = Math.max(start + 0.01, round(frameSeconds(features.frameIndex[endRow] + 1)));
    previousEnd = end;
    words.push({ word: phrase.words[n], punctuated: punctuated[n], start, end: round(end), confidence });
  }
  return words;
}
