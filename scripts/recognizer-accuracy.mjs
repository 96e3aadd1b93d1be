#!/usr/bin/env node
// Accuracy of the offline Deepgram stand-in's recogniser, language by language: every listed phrase
// spoken by espeak-ng at four rates must come out exactly; phrases not on the list (new questions,
// near misses that share words with a listed one, the other language's phrases) must come out
// empty. Prints the counts and every miss.
//   node --import tsx scripts/recognizer-accuracy.mjs
import { synthesizeSpeech } from '../src/offline/avatar/speech.ts';
import { DEFAULT_PHRASES, parsePhrase } from '../src/offline/deepgram/phrases.ts';
import { PhraseRecognizer } from '../src/offline/deepgram/recognizer.ts';

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
const transcribe = async (audio, language) => (await recognizer.recognize(audio, 'final', language)).map((w) => w.punctuated).join(' ');
const misses = [];
console.log(`${'language'.padEnd(10)}${'listed: exact'.padStart(16)}${'unlisted: empty'.padStart(18)}${'other language: empty'.padStart(24)}`);
for (const language of Object.keys(DEFAULT_PHRASES)) {
  const listed = { ok: 0, all: 0 };
  for (const text of DEFAULT_PHRASES[language]) {
    const expected = parsePhrase(text, language).punctuated.join(' ');
    for (const wpm of LISTED_WPM) {
      const got = await transcribe(await speak(text, language, wpm), language);
      listed.all++;
      if (got === expected) listed.ok++;
      else misses.push(`${language} listed   ${wpm} wpm "${text}" → "${got}"`);
    }
  }
  const rejected = async (texts, spokenIn) => {
    const tally = { ok: 0, all: 0 };
    for (const text of texts) {
      for (const wpm of UNLISTED_WPM) {
        const got = await transcribe(await speak(text, spokenIn, wpm), language);
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
await recognizer.close();
