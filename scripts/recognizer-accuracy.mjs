#!/usr/bin/env node
// Accuracy of the offline Deepgram stand-in's recogniser, language by language: every listed phrase
// spoken by espeak-ng at four rates must come out exactly; phrases not on the list (new questions,
// near misses that share words with a listed one, the other language's phrases) must come out
// empty. Prints the counts, every miss, and the margin: the worst 200 ms stretch of the best
// alignment for listed speech (must stay under the recogniser's limit) and for unlisted (over it).
//   node --import tsx scripts/recognizer-accuracy.mjs
import { synthesizeSpeech } from '../src/offline/avatar/speech.ts';
import { alignWhole } from '../src/offline/deepgram/alignment.ts';
import { extractFeatures } from '../src/offline/deepgram/features.ts';
import { DEFAULT_PHRASES, parsePhrase } from '../src/offline/deepgram/phrases.ts';
import { MAX_WORST, PhraseRecognizer } from '../src/offline/deepgram/recognizer.ts';
import { buildTemplates } from '../src/offline/deepgram/templates.ts';

/** Speaking rates (words a minute) each listed phrase is tried at: espeak-ng's 175 and around it. */
const LISTED_WPM = [130, 150, 175, 210];
const UNLISTED_WPM = [150, 175];

/** Not on the lists: new phrases, and near misses sharing words or sounds with listed ones. */
const UNLISTED = {
  en: [
    'Where is the nearest station?', 'I would like a cup of coffee.', 'Please turn on the light.', 'What time is it?',
    'The quick brown fox jumps over the lazy dog.', 'What is your favorite color?', 'How old are you?', 'Tell me a story.',
    'Good morning.', 'Thanks a lot.', 'Yesterday.', 'Hello there.',
  ],
  ru: [
    'Где ближайшая станция метро?', 'Который час?', 'Я хочу чашку кофе.', 'Включи свет.', 'Сколько тебе лет?', 'Доброе утро.',
    'Расскажи сказку.', 'Как твои дела?', 'Хорошая погода.', 'Что ты делаешь?', 'Пока.', 'Привет, друг.',
  ],
};

const pad = (pcm) => {
  const out = new Int16Array(pcm.length + 4800);
  out.set(pcm, 2400);
  return out;
};
const speak = async (text, language, wpm) => pad(await synthesizeSpeech(text, { language, rate: wpm / 175, sampleRate: 16_000 }));

const recognizer = await PhraseRecognizer.create(DEFAULT_PHRASES);
const templates = Object.fromEntries(
  await Promise.all(Object.entries(DEFAULT_PHRASES).map(async ([l, p]) => [l, await buildTemplates(p.map((t) => parsePhrase(t, l)), l)])),
);
/** Worst stretches of the nearest phrase, by language and kind of speech. */
const stretches = {};
const note = (audio, language, kind) => {
  const features = extractFeatures(audio);
  const best = templates[language]
    .map((t) => alignWhole(features, t.features))
    .filter(Boolean)
    .sort((a, b) => a.distance - b.distance)[0];
  if (best) ((stretches[language] ??= { listed: [], unlisted: [] })[kind]).push(best.worst);
};
const transcribe = async (audio, language, kind) => {
  note(audio, language, kind);
  return (await recognizer.recognize(audio, 'final', language)).map((w) => w.punctuated).join(' ');
};
const misses = [];
console.log(`${'language'.padEnd(10)}${'listed: exact'.padStart(16)}${'unlisted: empty'.padStart(18)}${'other language: empty'.padStart(24)}`);
for (const language of Object.keys(DEFAULT_PHRASES)) {
  const listed = { ok: 0, all: 0 };
  for (const text of DEFAULT_PHRASES[language]) {
    const expected = parsePhrase(text, language).punctuated.join(' ');
    for (const wpm of LISTED_WPM) {
      const got = await transcribe(await speak(text, language, wpm), language, 'listed');
      listed.all++;
      if (got === expected) listed.ok++;
      else misses.push(`${language} listed   ${wpm} wpm "${text}" → "${got}"`);
    }
  }
  const rejected = async (texts, spokenIn) => {
    const tally = { ok: 0, all: 0 };
    for (const text of texts) {
      for (const wpm of UNLISTED_WPM) {
        const got = await transcribe(await speak(text, spokenIn, wpm), language, 'unlisted');
        tally.all++;
        if (got === '') tally.ok++;
        else misses.push(`${language} unlisted ${wpm} wpm "${text}" (${spokenIn}) → "${got}"`);
      }
    }
    return tally;
  };
  const unlisted = await rejected(UNLISTED[language], language);
  const others = Object.keys(DEFAULT_PHRASES).filter((l) => l !== language);
  const crossed = { ok: 0, all: 0 };
  for (const other of others) {
    const t = await rejected(DEFAULT_PHRASES[other], other);
    crossed.ok += t.ok;
    crossed.all += t.all;
  }
  const cell = ({ ok, all }, width) => `${ok}/${all}`.padStart(width);
  console.log(`${language.padEnd(10)}${cell(listed, 16)}${cell(unlisted, 18)}${cell(crossed, 24)}`);
}
console.log(misses.length ? `\nmisses:\n${misses.join('\n')}` : '\nno misses');
console.log(`\nworst 200 ms stretch of the nearest phrase (the recogniser takes ≤ ${MAX_WORST}):`);
for (const [language, { listed, unlisted }] of Object.entries(stretches)) {
  console.log(`  ${language}: listed speech ≤ ${Math.max(...listed).toFixed(2)}, unlisted speech ≥ ${Math.min(...unlisted).toFixed(2)}`);
}
await recognizer.close();
