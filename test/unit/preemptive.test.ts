// Preemptive replies and per-turn latency figures in the conversation, with scripted transcripts
// (Deepgram's results as the transcriber reduces them: words, finals, pauses) and a scripted clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation, type ConversationOptions, type TranscriptUpdate } from '../../src/conversation/conversation.ts';
import type { LlmTurn } from '../../src/conversation/llm.ts';
import { isPause, sameWords, turnWords } from '../../src/conversation/preemptive.ts';
import type { TurnMetrics } from '../../src/conversation/turn-metrics.ts';
import { parseAttributes } from '../../src/element/config.ts';

const tick = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
};

const QUESTION = 'what is the weather like today';

/** An interim result whose last word ended `pauseMs` before the audio it covers ends. */
const interim = (text: string, pauseMs = 20, speechEndAt?: number): TranscriptUpdate => ({ text, isFinal: false, speechFinal: false, pauseMs, ...(speechEndAt !== undefined ? { speechEndAt } : {}) });
/**
 * The visitor pauses after `text`: an interim with those words while still speaking, then one with
 * the same words and `pauseMs` of silence after them.
 */
function pause(c: Conversation, text: string, pauseMs = 200, speechEndAt?: number): void {
  c.handleTranscript(interim(text, 20, speechEndAt));
  c.handleTranscript(interim(text, pauseMs, speechEndAt));
}
/** The final that ends the turn (`speech_final`), punctuated as smart_format does. */
const speechFinal = (text: string, speechEndAt?: number): TranscriptUpdate => ({ text, isFinal: true, speechFinal: true, pauseMs: 400, ...(speechEndAt !== undefined ? { speechEndAt } : {}) });

/** An LLM call the test releases: `reply` is streamed as two chunks once `release()` is called (or at once). */
interface Call {
  turn: LlmTurn;
  release: () => void;
  /** Chunks the stream yielded. */
  yielded: number;
  done: boolean;
}

/**
 * A conversation whose LLM answers `reply(turn)` in chunks of words, each call waiting for its
 * `release()` unless `immediate`; records everything the visitor could hear or see.
 */
function setup(options: Partial<ConversationOptions> & { reply?: (turn: LlmTurn) => string; immediate?: boolean; clock?: { t: number } } = {}) {
  const calls: Call[] = [];
  const spoken: string[] = [];
  const seen: string[] = [];
  const metrics: TurnMetrics[] = [];
  let interrupts = 0;
  const reply = options.reply ?? ((turn: LlmTurn) => (turn.text.toLowerCase().includes('tomorrow') ? 'Rain tomorrow. Bring an umbrella.' : 'Sunny and mild. Take a hat.'));
  const c = new Conversation({
    llm: (turn) => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const call: Call = { turn, release, yielded: 0, done: false };
      calls.push(call);
      if (options.immediate !== false) release();
      return (async function* () {
        await gate;
        for (const chunk of reply(turn).split(/(?<= )/)) {
          call.yielded++;
          yield chunk;
        }
        call.done = true;
      })();
    },
    speak: async (text) => {
      spoken.push(text);
    },
    interrupt: async () => {
      interrupts++;
    },
    language: 'en',
    ...(options.clock ? { now: () => options.clock!.t } : {}),
    ...options,
  });
  for (const name of ['turn', 'replyDelta', 'sentence', 'reply', 'bargeIn', 'error'] as const) {
    c.on(name, (...args: unknown[]) => seen.push(`${name}:${args.map((a) => (a instanceof Error ? a.message : String(a))).join('|')}`));
  }
  c.on('metrics', (m) => metrics.push(m));
  return { c, calls, spoken, seen, metrics, interrupts: () => interrupts };
}

describe('preemptive replies', () => {
  it('speculation confirmed: the LLM is asked at the first pause, its reply held until the turn ends with the same words, then said at once', async () => {
    const { c, calls, spoken, seen, metrics } = setup();
    c.handleTranscript(interim('what is the'));
    // The next word is being spoken but not named yet: the transcriber's level says no pause.
    c.handleTranscript(interim('what is the weather', 0));
    c.handleTranscript(interim(QUESTION, 20));
    await tick();
    assert.equal(calls.length, 0, 'no pause yet: no call');
    c.handleTranscript(interim(QUESTION, 210));
    await tick();
    assert.equal(calls.length, 1, 'asked at the pause');
    assert.equal(calls[0].turn.text, QUESTION);
    assert.equal(calls[0].turn.preemptive, true);
    assert.equal(calls[0].done, true, 'the whole reply came while the turn was open');
    assert.deepEqual(spoken, [], 'nothing said before the turn is confirmed');
    assert.equal(seen.length, 0, `no turn, reply or sentence event before the turn is confirmed: ${seen}`);
    assert.equal(c.state, 'listening');

    c.handleTranscript(speechFinal('What is the weather like today?'));
    await tick();
    assert.equal(calls.length, 1, 'the held reply is used: no second call');
    assert.deepEqual(spoken, ['Sunny and mild.', 'Take a hat.']);
    assert.equal(seen[0], 'turn:What is the weather like today?');
    assert.equal(seen.filter((e) => e.startsWith('replyDelta:')).at(-1), 'replyDelta:hat.|Sunny and mild. Take a hat.');
    assert.ok(seen.includes('reply:Sunny and mild. Take a hat.|false'), seen.join('\n'));
    assert.deepEqual(c.history, [
      { role: 'user', content: 'What is the weather like today?' },
      { role: 'assistant', content: 'Sunny and mild. Take a hat.' },
    ]);
    assert.deepEqual(c.preemptiveCalls, { made: 1, cancelled: 0 });
    c.avatarTalking(true);
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0].preemptive, true);
    assert.equal(metrics[0].cancelledSpeculativeCalls, 0);
  });

  it('a reply still streaming at the confirmation: what was held goes out first, the rest as it comes', async () => {
    const { c, calls, spoken, seen } = setup({ immediate: false });
    pause(c, QUESTION);
    await tick();
    c.handleTranscript(speechFinal('What is the weather like today.'));
    await tick();
    assert.equal(calls.length, 1);
    assert.deepEqual(spoken, [], 'the LLM has not answered yet');
    assert.deepEqual(seen, ['turn:What is the weather like today.']);
    assert.equal(c.state, 'thinking');
    calls[0].release();
    await tick();
    assert.deepEqual(spoken, ['Sunny and mild.', 'Take a hat.']);
    assert.equal(c.state, 'listening');
  });

  it('the visitor goes on speaking: the speculation is aborted, the new turn answered, nothing of the aborted reply said or shown', async () => {
    const { c, calls, spoken, seen, metrics } = setup();
    pause(c, 'what is the weather like', 220);
    await tick();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].done, true, 'the speculative reply was complete, and held');
    c.handleTranscript(interim('what is the weather like tomorrow', 20));
    assert.equal(calls[0].turn.signal.aborted, true, 'aborted as soon as more words came');
    // Another pause in the same turn: no second speculative call.
    pause(c, 'what is the weather like tomorrow in paris', 300);
    await tick();
    assert.equal(calls.length, 1, 'at most one speculative call per turn');
    c.handleTranscript(speechFinal('What is the weather like tomorrow in Paris?'));
    await tick();
    assert.equal(calls.length, 2);
    assert.equal(calls[1].turn.text, 'What is the weather like tomorrow in Paris?');
    assert.equal(calls[1].turn.preemptive, undefined);
    assert.deepEqual(spoken, ['Rain tomorrow.', 'Bring an umbrella.']);
    assert.ok(!seen.some((e) => e.includes('Sunny') || e.includes('Take a hat')), `the aborted reply surfaced:\n${seen.join('\n')}`);
    assert.deepEqual(seen.filter((e) => e.startsWith('turn:') || e.startsWith('reply:')), [
      'turn:What is the weather like tomorrow in Paris?',
      'reply:Rain tomorrow. Bring an umbrella.|false',
    ]);
    assert.deepEqual(c.history.map((m) => m.content), ['What is the weather like tomorrow in Paris?', 'Rain tomorrow. Bring an umbrella.']);
    assert.deepEqual(c.preemptiveCalls, { made: 1, cancelled: 1 });
    c.avatarTalking(true);
    assert.equal(metrics[0].preemptive, false);
    assert.equal(metrics[0].cancelledSpeculativeCalls, 1);
  });

  it('the next turn may speculate again', async () => {
    const { c, calls } = setup();
    pause(c, QUESTION);
    c.handleTranscript(speechFinal('What is the weather like today?'));
    await tick();
    pause(c, 'and tomorrow');
    await tick();
    assert.equal(calls.length, 2);
    assert.equal(calls[1].turn.preemptive, true);
    assert.deepEqual(calls[1].turn.history.map((m) => m.role), ['user', 'assistant']);
  });

  it('the final text differs from the speculative one: aborted, and the final text gets its own call', async () => {
    const { c, calls, spoken, seen } = setup({ immediate: false });
    pause(c, 'what is the whether like today', 250);
    await tick();
    assert.equal(calls.length, 1);
    // The final revises a word: not the same turn.
    c.handleTranscript(speechFinal('What is the weather like today?'));
    await tick();
    assert.equal(calls[0].turn.signal.aborted, true);
    assert.equal(calls.length, 2);
    assert.equal(calls[1].turn.text, 'What is the weather like today?');
    calls[0].release();
    calls[1].release();
    await tick();
    assert.deepEqual(spoken, ['Sunny and mild.', 'Take a hat.']);
    assert.equal(calls[0].done, false, 'the aborted stream was closed before its end');
    assert.equal(seen.filter((e) => e.startsWith('reply:')).length, 1);
    assert.deepEqual(c.preemptiveCalls, { made: 1, cancelled: 1 });
  });

  it('words are compared without case and punctuation, and nothing else', () => {
    assert.equal(turnWords('  What’s the weather — like, today?! '), "what's the weather like today");
    assert.ok(sameWords('what is the weather like today', 'What is the weather like today.'));
    assert.ok(sameWords('Погода в Москве?', 'погода в москве'));
    assert.ok(!sameWords('what is the weather', 'what is the weather like today'));
    assert.ok(!sameWords('what is the weather like today', 'what is the weather like'));
    assert.ok(!sameWords('book a table for two', 'book a table for ten'));
  });

  it('a pause is minPauseMs of silence after the last word, or a flush; never the turn’s end', () => {
    assert.equal(isPause(interim('hello', 99)), false);
    assert.equal(isPause(interim('hello', 100)), true);
    assert.equal(isPause({ text: 'hello', isFinal: true, speechFinal: false, pauseMs: 300 }), true);
    assert.equal(isPause({ text: 'hello', isFinal: true, speechFinal: false }), false, 'a final without word times may be mid-speech');
    assert.equal(isPause({ text: 'hello', isFinal: true, speechFinal: false, fromFinalize: true }), true);
    assert.equal(isPause(speechFinal('hello')), false);
    assert.equal(isPause(interim('hello', 250), 300), false);
  });

  it('barge-in during a speculative reply: the visitor’s own words cancel it, with no barge-in and no interrupt sent to the avatar', async () => {
    const { c, calls, spoken, seen, interrupts } = setup();
    pause(c, 'tell me');
    await tick();
    assert.equal(calls.length, 1);
    c.handleTranscript(interim('tell me about the weather', 20));
    await tick();
    assert.equal(calls[0].turn.signal.aborted, true);
    assert.equal(interrupts(), 0, 'nothing was said, so nothing to interrupt');
    assert.ok(!seen.some((e) => e.startsWith('bargeIn:')), seen.join('\n'));
    assert.deepEqual(spoken, []);
  });

  it('barge-in over the avatar, then a speculative reply to the new turn: the old reply is cut, the new one said', async () => {
    const turns: LlmTurn[] = [];
    const { c, spoken, seen, interrupts } = setup({
      llm: (turn) => {
        turns.push(turn);
        if (!turn.text.includes('story')) return 'Rain tomorrow. Bring an umbrella.';
        return (async function* () {
          yield 'Once upon a time. ';
          await new Promise((r) => turn.signal.addEventListener('abort', r));
          yield 'And a crow.';
        })();
      },
    });
    void c.send('tell me a story');
    await tick();
    c.avatarTalking(true);
    assert.deepEqual(spoken, ['Once upon a time.']);
    c.handleTranscript(interim('wait what', 20));
    await tick();
    assert.equal(interrupts(), 1, 'barge-in interrupts the avatar');
    assert.ok(seen.includes('bargeIn:wait what'));
    assert.equal(turns[0].signal.aborted, true);
    c.avatarTalking(false);
    // The visitor pauses after the question: a speculative call, held.
    pause(c, 'wait what about tomorrow');
    await tick();
    assert.equal(turns.length, 2);
    assert.equal(turns[1].preemptive, true);
    assert.deepEqual(spoken, ['Once upon a time.'], 'held until the turn is confirmed');
    c.handleTranscript(speechFinal('Wait, what about tomorrow?'));
    await tick();
    assert.equal(turns.length, 2);
    assert.deepEqual(spoken, ['Once upon a time.', 'Rain tomorrow.', 'Bring an umbrella.'], 'nothing more of the interrupted story');
    assert.equal(interrupts(), 1);
  });

  it('without barge-in, no speculation while the avatar talks (the turn waits for it anyway)', async () => {
    const { c, calls } = setup({ bargeIn: false });
    await c.say('Hello there.');
    c.avatarTalking(true);
    pause(c, QUESTION, 300);
    await tick();
    assert.equal(calls.length, 0);
    c.avatarTalking(false);
    pause(c, 'and tomorrow', 300);
    await tick();
    assert.equal(calls.length, 1, 'once the avatar is quiet, it may');
  });

  it('a speculation whose turn has to wait (the avatar started talking) is aborted', async () => {
    const { c, calls, spoken } = setup({ bargeIn: false, immediate: false });
    pause(c, QUESTION, 300);
    await tick();
    assert.equal(calls.length, 1);
    c.avatarTalking(true);
    c.handleTranscript(speechFinal('What is the weather like today?'));
    await tick();
    assert.equal(calls[0].turn.signal.aborted, true);
    c.avatarTalking(false);
    await tick();
    assert.equal(calls.length, 2, 'the held turn gets its own call');
    calls[1].release();
    await tick();
    assert.deepEqual(spoken, ['Sunny and mild.', 'Take a hat.']);
  });

  it('a speculation asked with a history that changed since (say()) is not used', async () => {
    const { c, calls } = setup({ immediate: false });
    pause(c, QUESTION, 300);
    await tick();
    await c.say('One moment.');
    c.handleTranscript(speechFinal('What is the weather like today?'));
    await tick();
    assert.equal(calls.length, 2);
    assert.equal(calls[0].turn.signal.aborted, true);
    assert.deepEqual(calls[1].turn.history.map((m) => m.content), ['One moment.']);
  });

  it('a failed speculative call stays quiet; the confirmed turn gets a call of its own', async () => {
    let n = 0;
    const { c, seen, spoken } = setup({
      llm: (turn) => {
        n++;
        if (turn.preemptive) throw new Error('rate limited');
        return 'Fine.';
      },
    });
    pause(c, 'how are you', 300);
    await tick();
    assert.equal(n, 1);
    assert.equal(seen.length, 0, `${seen}`);
    c.handleTranscript(speechFinal('How are you?'));
    await tick();
    assert.equal(n, 2);
    assert.deepEqual(spoken, ['Fine.']);
    assert.ok(!seen.some((e) => e.startsWith('error:')), seen.join('\n'));
    assert.deepEqual(c.preemptiveCalls, { made: 1, cancelled: 1 });
  });

  it('a typed turn (send()) cancels the speculation of the spoken one', async () => {
    const { c, calls, spoken } = setup();
    pause(c, QUESTION, 300);
    await tick();
    await c.send('and tomorrow?');
    await tick();
    assert.equal(calls[0].turn.signal.aborted, true);
    assert.deepEqual(spoken, ['Rain tomorrow.', 'Bring an umbrella.']);
  });

  it('push-to-talk released (a flushed final) is a pause', async () => {
    const { c, calls } = setup();
    c.handleTranscript({ text: 'what is the weather like today', isFinal: true, speechFinal: false, fromFinalize: true });
    await tick();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].turn.preemptive, true);
  });

  it('turned off: no call until the turn is confirmed', async () => {
    const { c, calls, spoken } = setup({ preemptive: false });
    pause(c, QUESTION, 300);
    c.handleTranscript({ text: QUESTION, isFinal: true, speechFinal: false, fromFinalize: true });
    await tick();
    assert.equal(calls.length, 0);
    c.handleTranscript(speechFinal('What is the weather like today?'));
    await tick();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].turn.preemptive, undefined);
    assert.deepEqual(spoken, ['Sunny and mild.', 'Take a hat.']);
    assert.deepEqual(c.preemptiveCalls, { made: 0, cancelled: 0 });
  });

  it('the no-preemptive attribute turns it off; it is on by default', () => {
    assert.equal(parseAttributes({}).config.preemptive, true);
    assert.equal(parseAttributes({ noPreemptive: false }).config.preemptive, true);
    assert.equal(parseAttributes({ noPreemptive: true }).config.preemptive, false);
  });

  it('dispose aborts the speculation', async () => {
    const { c, calls } = setup({ immediate: false });
    pause(c, QUESTION, 300);
    await tick();
    c.dispose();
    assert.equal(calls[0].turn.signal.aborted, true);
  });
});

describe('per-turn metrics', () => {
  /** A clock the test moves, and an avatar that accepts each task 40 ms after it is sent. */
  function timed(options: Partial<ConversationOptions> = {}) {
    const clock = { t: 0 };
    const s = setup({
      clock,
      immediate: false,
      speak: async () => {
        clock.t += 40;
      },
      ...options,
    });
    return { ...s, clock };
  }

  it('a spoken turn: end of speech → turn → first chunk, sentence → task → talking, end of speech → talking', async () => {
    const { c, calls, metrics, clock } = timed({ preemptive: false });
    clock.t = 1000;
    c.handleTranscript(interim(QUESTION, 20, 990));
    clock.t = 1500;
    c.handleTranscript(speechFinal('What is the weather like today?', 1000));
    await tick();
    clock.t = 1800;
    calls[0].release();
    await tick();
    assert.deepEqual(metrics, [], 'waits for the avatar to talk');
    clock.t = 2100;
    c.avatarTalking(true);
    assert.equal(metrics.length, 1);
    assert.deepEqual(metrics[0], {
      source: 'voice',
      preemptive: false,
      cancelledSpeculativeCalls: 0,
      speechEndToTurn: 500,
      turnToFirstChunk: 300,
      sentenceToTask: 40,
      taskToTalking: 2100 - 1840,
      speechEndToTalking: 1100,
    });
    c.avatarTalking(false);
    c.avatarTalking(true);
    assert.equal(metrics.length, 1, 'one event per turn');
  });

  it('a preemptive turn: the first chunk came before the turn (negative), the sentence goes at the turn', async () => {
    const { c, calls, metrics, clock } = timed();
    clock.t = 1200;
    pause(c, QUESTION, 200, 1000);
    await tick();
    clock.t = 1300;
    calls[0].release();
    await tick();
    clock.t = 1450;
    c.handleTranscript(speechFinal('What is the weather like today?', 1000));
    await tick();
    clock.t = 1600;
    c.avatarTalking(true);
    assert.deepEqual(metrics[0], {
      source: 'voice',
      preemptive: true,
      cancelledSpeculativeCalls: 0,
      speechEndToTurn: 450,
      turnToFirstChunk: -150,
      sentenceToTask: 40,
      taskToTalking: 1600 - 1490,
      speechEndToTalking: 600,
    });
  });

  it('the avatar starting before the service answered the task: the figures wait for the answer', async () => {
    let accept!: () => void;
    const { c, calls, metrics, clock } = timed({
      speak: () => new Promise<void>((r) => (accept = r)),
    });
    void c.send('hello');
    await tick();
    calls[0].release();
    await tick();
    clock.t = 300;
    c.avatarTalking(true);
    assert.equal(metrics.length, 0);
    clock.t = 310;
    accept();
    await tick();
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0].taskToTalking, -10);
    assert.equal(metrics[0].sentenceToTask, 310);
  });

  it('a typed turn has no end of speech; an interrupted reply reports at once, without talking', async () => {
    const { c, metrics, clock } = timed({
      llm: async function* (turn) {
        yield 'Working on it';
        await new Promise((r) => turn.signal.addEventListener('abort', r));
      },
    });
    void c.send('hello');
    clock.t = 100;
    await tick();
    assert.equal(metrics.length, 0);
    await c.interrupt();
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0].source, 'text');
    assert.equal(metrics[0].speechEndToTurn, null);
    assert.equal(metrics[0].speechEndToTalking, null);
    assert.equal(metrics[0].taskToTalking, null);
    assert.equal(metrics[0].turnToFirstChunk, 100);
  });

  it('a reply the avatar never started talking is reported when the next turn begins', async () => {
    const { c, metrics } = setup();
    await c.send('one');
    await tick();
    assert.equal(metrics.length, 0);
    await c.send('two');
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0].taskToTalking, null);
    assert.notEqual(metrics[0].sentenceToTask, null);
  });

  it('an LLM failure reports the turn without a sentence', async () => {
    const { c, metrics } = setup({ llm: () => Promise.reject(new Error('boom')) });
    await c.send('hi');
    await tick();
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0].turnToFirstChunk, null);
    assert.equal(metrics[0].sentenceToTask, null);
  });
});
