// `heygen-avatar-dev`: starts the offline world (LiveKit + HeyGen, LiveAvatar, Deepgram and LLM
// stand-ins) and prints where everything is, and how to point a broker at it. Runs until Ctrl-C.
import { DEFAULT_PHRASES, extraPhrasesFrom } from './deepgram/index.js';
import { SANDBOX_AVATAR_ID } from './liveavatar/index.js';
import { startOfflineWorld } from './world.js';

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`heygen-avatar-dev — the offline world for heygen-avatar

Starts a local LiveKit server (installed with \`go install\` on first use) and stand-ins that speak
HeyGen's streaming API, LiveAvatar's API (FULL mode), Deepgram's live STT and the Gemini/OpenAI
streaming APIs, on 127.0.0.1.

Options:
  --host ADDRESS    where the stand-ins listen (default 127.0.0.1)
  --ttft MS         the LLM stand-in's time to first token (default 300)
  --tps N           the LLM stand-in's tokens per second (default 40)
  --phrases LANG=FILE  adds the file's lines (one phrase each) to what the Deepgram stand-in
                    recognises in LANG; repeatable. Built in: ${Object.entries(DEFAULT_PHRASES).map(([l, p]) => `${l} (${p.length})`).join(', ')}`);
    return;
  }
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const ttft = opt('--ttft');
  const tps = opt('--tps');
  const world = await startOfflineWorld({
    ...(opt('--host') ? { host: opt('--host') } : {}),
    deepgram: { extraPhrases: extraPhrasesFrom(argv) },
    llm: { ...(ttft ? { ttftMs: Number(ttft) } : {}), ...(tps ? { tokensPerSecond: Number(tps) } : {}) },
  });
  console.log(`heygen-avatar offline world is running (Ctrl-C to stop)

  LiveKit              ${world.livekit.url}   (log: ${world.livekit.logFile})
  HeyGen stand-in      ${world.heygen.url}
  LiveAvatar stand-in  ${world.liveavatar.url}   (FULL mode; sandbox avatar ${SANDBOX_AVATAR_ID})
  Deepgram stand-in    ${world.deepgram.url}   (recognises ${Object.keys(DEFAULT_PHRASES).map((l) => `${world.deepgram.phrases(l).length} ${l}`).join(', ')} phrases: see the README)
  LLM stand-in         ${world.llm.url}   (Gemini and OpenAI paths)

Point a broker at it:
  HEYGEN_API_BASE=${world.heygen.url} HEYGEN_API_KEY=${world.keys.heygen}
  LIVEAVATAR_API_BASE=${world.liveavatar.url} LIVEAVATAR_API_KEY=${world.keys.liveavatar}
  DEEPGRAM_API_BASE=${world.deepgram.url} DEEPGRAM_API_KEY=${world.keys.deepgram}
  GEMINI_API_BASE=${world.llm.url} GEMINI_API_KEY=${world.keys.gemini}
Faults on demand: POST <stand-in>/_faults {"kind":"rate-limit"|"server-error"|"stall"|"drop"|"expire"}`);
  const stop = async () => {
    await world.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
