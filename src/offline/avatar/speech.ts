// Speech for the synthetic avatars (HeyGen's and LiveAvatar's stand-ins): espeak-ng speaks the
// text, sox converts it to mono 16-bit PCM at the LiveKit track's rate.
import { spawn } from 'node:child_process';

/**
 * espeak-ng voices by BCP-47 tag where espeak names them otherwise; any other language espeak-ng
 * speaks goes by its primary subtag (`ru`, `tr`, `uk`…), and the rest falls back to English.
 */
const VOICES: Record<string, string> = { en: 'en-us', 'en-gb': 'en-gb', 'pt-br': 'pt-br', 'es-419': 'es-419', zh: 'cmn', fr: 'fr-fr', no: 'nb' };
const PRIMARY = new Set('af ar bg bn ca cs da de el es et fa fi he hi hr hu id it ja ko lt lv ms nb nl pl pt ro ru sk sl sr sv ta th tr uk vi'.split(' '));

export function espeakVoice(language: string | undefined): string {
  const lang = (language ?? 'en').toLowerCase();
  const primary = lang.split('-')[0];
  return VOICES[lang] ?? VOICES[primary] ?? (PRIMARY.has(primary) ? primary : 'en-us');
}

export interface SpeechOptions {
  language?: string;
  /** Speaking rate, 1 = espeak's 175 words per minute (HeyGen's voice.rate, LiveAvatar's voice_settings.speed). */
  rate?: number;
  sampleRate?: number;
  /** `text` is SSML (`<speak>…<break time="1s"/>…</speak>`), as espeak-ng's `-m` reads it. */
  ssml?: boolean;
}

/** Synthesises `text` as mono Int16 PCM at `sampleRate` (default 48 kHz). */
export function synthesizeSpeech(text: string, options: SpeechOptions = {}): Promise<Int16Array> {
  const sampleRate = options.sampleRate ?? 48_000;
  const wpm = Math.round(175 * (options.rate ?? 1));
  return new Promise((resolve, reject) => {
    const espeak = spawn('espeak-ng', ['-v', espeakVoice(options.language), '-s', String(wpm), ...(options.ssml ? ['-m'] : []), '--stdout', '--', text], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sox = spawn('sox', ['-t', 'wav', '-', '-t', 'raw', '-r', String(sampleRate), '-e', 'signed-integer', '-b', '16', '-c', '1', '-L', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    espeak.stdout.pipe(sox.stdin);
    const chunks: Buffer[] = [];
    let stderr = '';
    sox.stdout.on('data', (c: Buffer) => chunks.push(c));
    sox.stderr.on('data', (c: Buffer) => (stderr += c));
    espeak.stderr.on('data', (c: Buffer) => (stderr += c));
    espeak.on('error', (err) => reject(new Error(`espeak-ng could not run: ${err.message}`)));
    sox.on('error', (err) => reject(new Error(`sox could not run: ${err.message}`)));
    sox.on('close', (code) => {
      if (code !== 0) return reject(new Error(`speech synthesis failed (sox exit ${code}): ${stderr.trim()}`));
      const buf = Buffer.concat(chunks);
      const pcm = new Int16Array(buf.length >> 1);
      for (let i = 0; i < pcm.length; i++) pcm[i] = buf.readInt16LE(i * 2);
      resolve(trimSilence(pcm, sampleRate));
    });
  });
}

/**
 * Cuts espeak's leading and trailing silence (keeping 20 ms), so speech starts at once and the
 * task's `duration_ms` is the length of what is heard.
 */
export function trimSilence(pcm: Int16Array, sampleRate: number, threshold = 300): Int16Array {
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first]) < threshold) first++;
  let last = pcm.length - 1;
  while (last > first && Math.abs(pcm[last]) < threshold) last--;
  if (first >= last) return new Int16Array(0);
  const margin = Math.round(sampleRate * 0.02);
  return pcm.slice(Math.max(0, first - margin), Math.min(pcm.length, last + 1 + margin));
}
