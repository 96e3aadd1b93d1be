import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Conversation } from '../../src/conversation/conversation.ts';
import type { LlmTurn } from '../../src/conversation/llm.ts';

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(llm: (turn: LlmTurn) => any) {
  const spoken: string[] = [];
  const events: string[] = [];
  const turns: LlmTurn[] = [];
  let interrupts = 0;
  const c = new Conversation({
    llm: (turn) => {
      turns.push(turn);
      return llm(turn);
    },
    speak: async (text) => {
      spoken.push(text);
    },
    interrupt: async () => {
      interrupts++;
    },
    language: 'en',
  });
  for (const name of ['state', 'turn', 'sentence', 'reply', 'error', 'final'] as const) {
    c.on(name, (...args: unknown[]) => events.push(`${name}:${args.map((a) => (a instanceof Error ? a.message : String(a))).join('|')}`));
  }
  return { c, spoken, events, turns, interrupts: () => interrupts };
}

describe('Conversation', () => {
  it('joins final segments into one turn at speech_final and calls the LLM with it', async () => {
    const { c, spoken, turns, events } = setup(() => 'Sunny and warm. Take a hat!');
    c.handleTranscript({ text: 'what is', isFinal: false, speechFinal: false });
    c.handleTranscript({ text: 'what is the weather', isFinal: true, speechFinal: false });
    c.handleTranscript({ text: 'like today', isFinal: true, speechFinal: true });
    await tick();
    await tick();
    assert.equal(turns.length, 1);
    assert.equal(turns[0].text, 'what is the weather like today');
    assert.deepEqual(turns[0].history, []);
    assert.deepEqual(spoken, ['Sunny and warm.', 'Take a hat!']);
    assert.ok(events.includes('turn:what is the weather like today'));
    assert.deepEqual(c.history, [
      { role: 'user', content: 'what is the weather like today' },
      { role: 'assistant', content: 'Sunny and warm. Take a hat!' },
    ]);
    assert.equal(c.state, 'listening');
  });

  it('ends the turn at UtteranceEnd when speech_final never came, and not on an empty one', async () => {
    const { c, turns } = setup(() => 'Ok.');
    c.handleUtteranceEnd();
    c.handleTranscript({ text: 'hello there', isFinal: true, speechFinal: false });
    assert.equal(turns.length, 0);
    c.handleUtteranceEnd();
    await tick();
    assert.equal(turns.length, 1);
    assert.equal(turns[0].text, 'hello there');
  });

  it('sends the first sentence to the avatar before an async iterable reply has finished', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let finished = false;
    const { c, spoken } = setup(async function* () {
      yield 'First sentence';
      yield ' is here. Second';
      await gate;
      yield ' one.';
      finished = true;
    });
    void c.send('go');
    await tick();
    await tick();
    assert.deepEqual(spoken, ['First sentence is here.']);
    assert.equal(finished, false);
    assert.equal(c.state, 'thinking');
    release();
    await tick();
    await tick();
    await tick();
    assert.deepEqual(spoken, ['First sentence is here.', 'Second one.']);
    assert.equal(finished, true);
  });

  it('keeps sentences in order even when the avatar accepts them slowly', async () => {
    const order: string[] = [];
    const c = new Conversation({
      llm: () => 'One. Two. Three.',
      speak: async (text) => {
        await new Promise((r) => setTimeout(r, text === 'One.' ? 30 : 1));
        order.push(text);
      },
      language: 'en',
    });
    const replied = new Promise((r) => c.on('reply', r));
    await c.send('count');
    await replied;
    assert.deepEqual(order, ['One.', 'Two.', 'Three.']);
  });

  it('reports LLM failures as errors and goes back to listening', async () => {
    const { c, events } = setup(() => Promise.reject(new Error('boom')));
    await c.send('hi');
    await tick();
    assert.ok(events.some((e) => e.startsWith('error:the llm callback failed: boom')), events.join('\n'));
    assert.equal(c.state, 'listening');
    const bad = setup(() => 42);
    await bad.c.send('hi');
    assert.ok(bad.events.some((e) => e.includes('must return a string')), bad.events.join('\n'));
  });

  it('interrupt aborts the signal, stops reading the stream, drops queued sentences, and interrupts the avatar', async () => {
    let reads = 0;
    let signal!: AbortSignal;
    let deltasAfter = 0;
    let interrupted = false;
    const { c, spoken, interrupts, events } = setup(async function* (turn: LlmTurn) {
      signal = turn.signal;
      for (let i = 0; i < 100; i++) {
        reads++;
        yield `Sentence ${i}. `;
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    c.on('replyDelta', () => {
      if (interrupted) deltasAfter++;
    });
    void c.send('talk a lot');
    await new Promise((r) => setTimeout(r, 30));
    c.avatarTalking(true);
    assert.equal(c.state, 'speaking');
    interrupted = true;
    await c.interrupt();
    const readsAtInterrupt = reads;
    const spokenAtInterrupt = spoken.length;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(signal.aborted, true);
    assert.equal(deltasAfter, 0, 'no chunk consumed after the interrupt');
    // The producer may finish the step it was in; the stream is closed at its next yield.
    assert.ok(reads <= readsAtInterrupt + 1, `producer ran ${reads - readsAtInterrupt} steps after the interrupt`);
    assert.equal(spoken.length, spokenAtInterrupt, 'no more sentences sent');
    assert.equal(interrupts(), 1);
    assert.ok(events.some((e) => e.startsWith('reply:') && e.endsWith('|true')));
    assert.equal(c.history.at(-1)?.role, 'assistant');
  });

  it('a new turn while replying interrupts the old reply first', async () => {
    const { c, turns } = setup(async function* (turn: LlmTurn) {
      yield 'Thinking';
      await new Promise((r) => turn.signal.addEventListener('abort', r));
    });
    void c.send('first');
    await tick();
    void c.send('second');
    await tick();
    await tick();
    assert.equal(turns.length, 2);
    assert.equal(turns[0].signal.aborted, true);
    assert.deepEqual(turns[1].history.map((m) => m.content), ['first', 'Thinking']);
  });

  it('dispose (session stop) aborts the reply in flight', async () => {
    const { c, turns } = setup(async function* (turn: LlmTurn) {
      yield 'Working';
      await new Promise((r) => turn.signal.addEventListener('abort', r));
    });
    void c.send('hello');
    await tick();
    c.dispose();
    assert.equal(turns[0].signal.aborted, true);
  });
});

describe('Conversation barge-in', () => {
  function talking(bargeIn?: false | { minWords?: number }) {
    let interrupts = 0;
    let signal!: AbortSignal;
    const c = new Conversation({
      llm: async function* (turn) {
        signal = turn.signal;
        yield 'A long answer. ';
        await new Promise((r) => turn.signal.addEventListener('abort', r));
      },
      speak: async () => undefined,
      interrupt: async () => {
        interrupts++;
      },
      language: 'en',
      ...(bargeIn !== undefined ? { bargeIn } : {}),
    });
    return { c, interrupts: () => interrupts, signal: () => signal };
  }

  it('interrupts the avatar when the user says two words over it, and takes the new turn', async () => {
    const { c, interrupts, signal } = talking();
    const barged: string[] = [];
    c.on('bargeIn', (t) => barged.push(t));
    void c.send('tell me a story');
    await tick();
    c.avatarTalking(true);
    c.handleTranscript({ text: 'hm', isFinal: false, speechFinal: false });
    assert.equal(interrupts(), 0, 'one word is not enough');
    c.handleTranscript({ text: 'wait stop', isFinal: false, speechFinal: false });
    await tick();
    assert.equal(interrupts(), 1);
    assert.equal(signal().aborted, true);
    assert.deepEqual(barged, ['wait stop']);
  });

  it('can be turned off', async () => {
    const { c, interrupts, signal } = talking(false);
    void c.send('tell me a story');
    await tick();
    c.avatarTalking(true);
    c.handleTranscript({ text: 'wait stop please', isFinal: false, speechFinal: false });
    await tick();
    assert.equal(interrupts(), 0);
    assert.equal(signal().aborted, false);
  });

  it('does nothing while the avatar is silent and no reply runs', () => {
    const { c, interrupts } = talking();
    c.handleTranscript({ text: 'hello there friend', isFinal: false, speechFinal: false });
    assert.equal(interrupts(), 0);
  });
});

describe('Conversation without barge-in', () => {
  it('holds a spoken turn until the avatar has finished, then answers it', async () => {
    const turns: string[] = [];
    let interrupts = 0;
    const c = new Conversation({
      llm: (turn) => {
        turns.push(turn.text);
        return 'Sure.';
      },
      speak: async () => undefined,
      interrupt: async () => {
        interrupts++;
      },
      language: 'en',
      bargeIn: false,
    });
    await c.send('first question');
    c.avatarTalking(true);
    c.handleTranscript({ text: 'second question', isFinal: true, speechFinal: true });
    await tick();
    assert.deepEqual(turns, ['first question'], 'held while the avatar talks');
    assert.equal(interrupts, 0);
    c.avatarTalking(false);
    await tick();
    assert.deepEqual(turns, ['first question', 'second question']);
    assert.equal(interrupts, 0);
  });
});
