// Speech recognition for the Deepgram stand-in: pocketsphinx (`pocketsphinx_continuous`, Debian
// packages pocketsphinx + pocketsphinx-en-us) decoding one speech segment at a time against a JSGF
// grammar of known phrases. With a grammar, synthetic speech (espeak-ng) comes out exactly.
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const POCKETSPHINX_BINARY = 'pocketsphinx_continuous';
const POCKETSPHINX_MODEL = '/usr/share/pocketsphinx/model/en-us/en-us';
const POCKETSPHINX_DICTIONARY = '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict';

/** A recognised word, times in seconds from the start of the audio given to `recognize`. */
export interface RecognizedWord {
  word: string;
  start: number;
  end: number;
  confidence: number;
}

/**
 * `final` decodes a speech segment as one of the phrases; `interim` as any prefix of one, so
 * speech that is still going on comes out as the words so far.
 */
export type RecognitionKind = 'final' | 'interim';

/** Lower-case words separated by single spaces; punctuation other than apostrophes dropped. */
export function normalizePhrase(phrase: string): string {
  return phrase
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const dictionaries = new Map<string, Promise<Map<string, string[]>>>();

/** CMU dictionary lines by word (alternative pronunciations `word(2)` kept under `word`). */
function loadDictionary(path: string): Promise<Map<string, string[]>> {
  let loaded = dictionaries.get(path);
  if (!loaded) {
    loaded = readFile(path, 'utf8').then((text) => {
      const entries = new Map<string, string[]>();
      for (const line of text.split('\n')) {
        const space = line.indexOf(' ');
        if (space <= 0) continue;
        const word = line.slice(0, space).replace(/\(\d+\)$/, '');
        const lines = entries.get(word);
        if (lines) lines.push(line);
        else entries.set(word, [line]);
      }
      return entries;
    });
    loaded.catch(() => dictionaries.delete(path));
    dictionaries.set(path, loaded);
  }
  return loaded;
}

/** Tokens pocketsphinx prints that are not words: silence, sentence marks, fillers, null arcs. */
function isFiller(token: string): boolean {
  return token.startsWith('<') || token.startsWith('[') || token.startsWith('++') || token === '(NULL)';
}

interface Grammar {
  phrases: string[];
  finalGrammar: string;
  interimGrammar: string;
  dictionary: string;
}

interface Job {
  kind: RecognitionKind;
  run: () => void;
  cancel: (reason: Error) => void;
}

/**
 * Runs `pocketsphinx_continuous` on speech segments, at most one process per CPU at a time (final
 * decodes ahead of interim ones). Create with `PhraseRecognizer.create()`.
 */
export class PhraseRecognizer {
  readonly #workDir: string;
  readonly #dictionary: Map<string, string[]>;
  readonly #children = new Set<ChildProcess>();
  readonly #queue: Job[] = [];
  readonly #maxRunning = Math.max(2, availableParallelism());
  #running = 0;
  #grammar!: Grammar;
  #version = 0;
  #files = 0;
  #closed = false;

  private constructor(workDir: string, dictionary: Map<string, string[]>) {
    this.#workDir = workDir;
    this.#dictionary = dictionary;
  }

  /** Checks that pocketsphinx and its en-us model are installed, and prepares the grammar. */
  static async create(phrases: readonly string[]): Promise<PhraseRecognizer> {
    await assertPocketsphinxInstalled();
    const dictionary = await loadDictionary(POCKETSPHINX_DICTIONARY);
    const workDir = await mkdtemp(join(tmpdir(), 'offline-deepgram-'));
    const recognizer = new PhraseRecognizer(workDir, dictionary);
    try {
      recognizer.setPhrases(phrases);
    } catch (err) {
      await rm(workDir, { recursive: true, force: true });
      throw err;
    }
    return recognizer;
  }

  /** The phrases recognised, normalised (lower case, no punctuation). */
  get phrases(): readonly string[] {
    return this.#grammar.phrases;
  }

  /**
   * Replaces the phrases; decodes already running finish with the old ones. Throws a TypeError if
   * the list is empty or a word is not in the pronunciation dictionary.
   */
  setPhrases(phrases: readonly string[]): void {
    const normalized = [...new Set(phrases.map((p) => (typeof p === 'string' ? normalizePhrase(p) : '')))].filter(Boolean);
    if (!normalized.length) throw new TypeError('phrases must contain at least one phrase with a word in it');
    const words = new Set(normalized.flatMap((p) => p.split(' ')));
    const unknown = [...words].filter((w) => !this.#dictionary.has(w));
    if (unknown.length) {
      throw new TypeError(
        `phrases use words the recogniser cannot pronounce (not in ${POCKETSPHINX_DICTIONARY}): ${unknown.join(', ')}; spell numbers and symbols out as words`,
      );
    }
    const prefixes = new Set<string>();
    for (const phrase of normalized) {
      const parts = phrase.split(' ');
      for (let n = 1; n <= parts.length; n++) prefixes.add(parts.slice(0, n).join(' '));
    }
    const version = ++this.#version;
    const base = join(this.#workDir, `grammar-${version}`);
    const grammar: Grammar = {
      phrases: normalized,
      finalGrammar: `${base}.jsgf`,
      interimGrammar: `${base}-interim.jsgf`,
      dictionary: `${base}.dict`,
    };
    // One phrase per speech segment: letting phrases repeat (`<phrase>+`) makes pocketsphinx insert
    // short phrases into the tail of long ones (a drawn-out "today" came out as "today yes").
    writeFileSync(grammar.finalGrammar, `#JSGF V1.0;\ngrammar phrases;\npublic <phrase> = ${normalized.join(' | ')};\n`);
    writeFileSync(grammar.interimGrammar, `#JSGF V1.0;\ngrammar prefixes;\npublic <prefix> = ${[...prefixes].join(' | ')};\n`);
    writeFileSync(grammar.dictionary, `${[...words].flatMap((w) => this.#dictionary.get(w) ?? []).join('\n')}\n`);
    this.#grammar = grammar;
  }

  /** Decodes 16 kHz mono 16-bit audio into words (empty when nothing matched a phrase). */
  recognize(audio: Int16Array, kind: RecognitionKind): Promise<RecognizedWord[]> {
    if (this.#closed) return Promise.reject(new Error('the recogniser is closed'));
    const grammar = this.#grammar;
    return new Promise<RecognizedWord[]>((resolve, reject) => {
      const run = () => {
        this.#running++;
        this.#decode(audio, kind, grammar)
          .then(resolve, reject)
          .finally(() => {
            this.#running--;
            this.#next();
          });
      };
      this.#queue.push({ kind, run, cancel: reject });
      this.#next();
    });
  }

  /** Kills running decodes and removes the temporary files. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.cancel(new Error('the recogniser is closed'));
    for (const child of this.#children) child.kill('SIGKILL');
    this.#children.clear();
    await rm(this.#workDir, { recursive: true, force: true });
  }

  #next(): void {
    if (this.#closed || this.#running >= this.#maxRunning || !this.#queue.length) return;
    const finalIndex = this.#queue.findIndex((job) => job.kind === 'final');
    const [job] = this.#queue.splice(finalIndex >= 0 ? finalIndex : 0, 1);
    job.run();
  }

  async #decode(audio: Int16Array, kind: RecognitionKind, grammar: Grammar): Promise<RecognizedWord[]> {
    const file = join(this.#workDir, `segment-${++this.#files}.raw`);
    await writeFile(file, new Uint8Array(audio.buffer, audio.byteOffset, audio.byteLength));
    try {
      const output = await this.#run([
        '-infile', file,
        '-jsgf', kind === 'final' ? grammar.finalGrammar : grammar.interimGrammar,
        '-hmm', POCKETSPHINX_MODEL,
        '-dict', grammar.dictionary,
        '-samprate', '16000',
        '-remove_silence', 'no',
        '-time', 'yes',
        '-logfn', '/dev/null',
      ]);
      return parseWordTimes(output);
    } finally {
      await rm(file, { force: true });
    }
  }

  #run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new Error('the recogniser is closed'));
      const child = spawn(POCKETSPHINX_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.#children.add(child);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (err) => {
        this.#children.delete(child);
        reject(err);
      });
      child.on('close', (code, signal) => {
        this.#children.delete(child);
        if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
        const detail = Buffer.concat(stderr).toString('utf8').trim().split('\n').pop() ?? '';
        reject(new Error(`${POCKETSPHINX_BINARY} failed (${signal ?? `exit code ${code}`})${detail ? `: ${detail}` : ''}`));
      });
    });
  }
}

/** Parses the word lines of `-time yes` output: `word start end posterior`. */
function parseWordTimes(output: string): RecognizedWord[] {
  const words: RecognizedWord[] = [];
  for (const line of output.split('\n')) {
    const match = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/.exec(line.trim());
    if (!match || isFiller(match[1])) continue;
    words.push({
      word: match[1].replace(/\(\d+\)$/, ''),
      start: Number(match[2]),
      end: Number(match[3]),
      confidence: Math.min(1, Math.max(0, Number(match[4]))),
    });
  }
  return words;
}

async function assertPocketsphinxInstalled(): Promise<void> {
  for (const path of [POCKETSPHINX_MODEL, POCKETSPHINX_DICTIONARY]) {
    try {
      await access(path);
    } catch {
      throw new Error(`the offline Deepgram stand-in needs the pocketsphinx en-us model at ${path} (Debian/Ubuntu: apt-get install pocketsphinx pocketsphinx-en-us)`);
    }
  }
  await new Promise<void>((resolve, reject) => {
    // Without arguments it prints its usage and exits; only a missing binary is an error here.
    const child = spawn(POCKETSPHINX_BINARY, [], { stdio: 'ignore' });
    child.on('error', () =>
      reject(new Error(`the offline Deepgram stand-in needs ${POCKETSPHINX_BINARY} on the PATH (Debian/Ubuntu: apt-get install pocketsphinx pocketsphinx-en-us)`)),
    );
    child.on('close', () => resolve());
  });
}
