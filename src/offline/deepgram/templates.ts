// The recogniser's references: each listed phrase spoken by espeak-ng in its language's voice,
// as listed (its commas and question marks change how it is spoken), turned into features, with
// where each of its words ends. Word ends come from espeak-ng speaking every beginning of the
// phrase ("Какая", "Какая сегодня", …) and aligning each with the whole.
import { espeakVoice, synthesizeSpeech } from '../avatar/speech.js';
import { alignPrefix } from './alignment.js';
import { extractFeatures, type Features } from './features.js';
import type { Phrase } from './phrases.js';

/** espeak-ng's rate for the references (words per minute): between its default 175 and the slower 150 tests use. */
const TEMPLATE_WPM = 160;
const SAMPLE_RATE = 16_000;
/** Renderings are spoken in one espeak-ng run, separated by this much silence… */
const SEPARATOR_MS = 1500;
/** …and cut apart again at every silence this long (espeak-ng never pauses this long inside a phrase). */
const SPLIT_SILENCE_MS = 900;
/** |sample| at or below this is silence when cutting renderings apart. */
const SILENCE_LEVEL = 150;

export interface PhraseTemplate {
  phrase: Phrase;
  features: Features;
  /** For each word, the last template frame (feature row) it covers. */
  wordEnds: number[];
}

/** References by espeak-ng voice and phrase as spoken, shared by every recogniser in the process. */
const cache = new Map<string, Promise<PhraseTemplate>>();

/** Speaks `phrases` in `language`'s espeak-ng voice and prepares their templates. */
export async function buildTemplates(phrases: readonly Phrase[], language: string): Promise<PhraseTemplate[]> {
  const voice = espeakVoice(language);
  const key = (p: Phrase) => `${voice}\n${p.spoken.join(' ')}`;
  const missing = phrases.filter((p) => !cache.has(key(p)));
  if (missing.length) {
    const rendered = renderAll(missing, language);
    missing.forEach((phrase, i) => {
      const template = rendered.then((all) => toTemplate(phrase, all[i]));
      template.catch(() => cache.delete(key(phrase)));
      cache.set(key(phrase), template);
    });
  }
  // The phrase as listed (capitals) may differ from the cached one spoken the same.
  return Promise.all(phrases.map(async (phrase) => ({ ...(await cache.get(key(phrase))!), phrase })));
}

/** For each phrase, the audio of each of its beginnings (one word, two words, …, all of them). */
async function renderAll(phrases: readonly Phrase[], language: string): Promise<Int16Array[][]> {
  const texts = phrases.flatMap((p) => p.spoken.map((_, n) => p.spoken.slice(0, n + 1).join(' ')));
  let pieces = await renderBatch(texts, language);
  // A rendering that does not cut apart cleanly is spoken again, one phrase at a time.
  if (pieces.length !== texts.length) pieces = await Promise.all(texts.map((t) => renderOne(t, language)));
  const out: Int16Array[][] = [];
  let next = 0;
  for (const p of phrases) {
    out.push(pieces.slice(next, next + p.words.length));
    next += p.words.length;
  }
  return out;
}

async function renderBatch(texts: string[], language: string): Promise<Int16Array[]> {
  const escape = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const ssml = `<speak>${texts.map(escape).join(`<break time="${SEPARATOR_MS}ms"/>`)}</speak>`;
  const pcm = await synthesizeSpeech(ssml, { language, rate: TEMPLATE_WPM / 175, sampleRate: SAMPLE_RATE, ssml: true });
  return splitAtSilence(pcm);
}

function renderOne(text: string, language: string): Promise<Int16Array> {
  return synthesizeSpeech(text, { language, rate: TEMPLATE_WPM / 175, sampleRate: SAMPLE_RATE });
}

function splitAtSilence(pcm: Int16Array): Int16Array[] {
  const minGap = (SPLIT_SILENCE_MS * SAMPLE_RATE) / 1000;
  const pieces: Int16Array[] = [];
  let start = -1;
  let quietSince = -1;
  for (let i = 0; i <= pcm.length; i++) {
    const loud = i < pcm.length && Math.abs(pcm[i]) > SILENCE_LEVEL;
    if (loud) {
      if (start < 0) start = i;
      quietSince = -1;
    } else if (start >= 0) {
      if (quietSince < 0) quietSince = i;
      if (i - quietSince >= minGap || i === pcm.length) {
        pieces.push(pcm.slice(start, quietSince));
        start = -1;
        quietSince = -1;
      }
    }
  }
  return pieces;
}

function toTemplate(phrase: Phrase, beginnings: Int16Array[]): PhraseTemplate {
  const features = extractFeatures(beginnings.at(-1)!);
  if (features.frames < 3) throw new Error(`espeak-ng produced no speech for "${phrase.text}"`);
  const wordEnds = beginnings.map((audio, n) => {
    if (n === beginnings.length - 1) return features.frames - 1;
    const aligned = alignPrefix(extractFeatures(audio), features);
    return aligned ? aligned.bFrames - 1 : Math.round(((n + 1) * features.frames) / beginnings.length) - 1;
  });
  // Each word ends after the one before it.
  for (let n = 1; n < wordEnds.length; n++) wordEnds[n] = Math.min(features.frames - 1, Math.max(wordEnds[n], wordEnds[n - 1] + 1));
  return { phrase, features, wordEnds };
}
