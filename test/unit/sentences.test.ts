import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SentenceChunker, splitSentences } from '../../src/conversation/sentences.ts';

describe('splitSentences', () => {
  it('splits on . ! ? and keeps the punctuation', () => {
    assert.deepEqual(splitSentences('Hello there. How are you? Fine!'), ['Hello there.', 'How are you?', 'Fine!']);
  });

  it('keeps decimals, abbreviations and initials inside a sentence', () => {
    assert.deepEqual(splitSentences('Pi is 3.14 or so. Dr. Smith met J. Doe, e.g. at noon. Done.'), [
      'Pi is 3.14 or so.',
      'Dr. Smith met J. Doe, e.g. at noon.',
      'Done.',
    ]);
  });

  it('handles Russian text, abbreviations and closing quotes', () => {
    assert.deepEqual(splitSentences('Привет! Это т.е. пример. Он сказал: «Да.» Всё?'), [
      'Привет!',
      'Это т.е. пример.',
      'Он сказал: «Да.»',
      'Всё?',
    ]);
  });

  it('ends a sentence at a blank line and cuts an over-long one at a comma', () => {
    assert.deepEqual(splitSentences('Title\n\nBody text'), ['Title', 'Body text']);
    const long = `${'word '.repeat(30)}, ${'more '.repeat(40)}end.`;
    const parts = splitSentences(long, { maxLength: 200 });
    assert.ok(parts.length >= 2, `cut into ${parts.length}`);
    assert.ok(parts.every((p) => p.length <= 200));
    assert.equal(parts.join(' ').replace(/\s+/g, ' '), long.replace(/\s+/g, ' ').trim());
  });
});

describe('SentenceChunker (streaming)', () => {
  it('emits a sentence as soon as its terminator arrives, without waiting for the next token', () => {
    const c = new SentenceChunker();
    assert.deepEqual(c.push('Hel'), []);
    assert.deepEqual(c.push('lo there'), []);
    assert.deepEqual(c.push('!'), ['Hello there!']);
    assert.deepEqual(c.push(' How'), []);
    assert.deepEqual(c.push(' are you?'), ['How are you?']);
    assert.equal(c.flush(), undefined);
  });

  it('waits when a trailing dot may be a decimal or an abbreviation', () => {
    const c = new SentenceChunker();
    assert.deepEqual(c.push('It costs 3.'), []);
    assert.deepEqual(c.push('50 now. Ask Dr.'), ['It costs 3.50 now.']);
    assert.deepEqual(c.push(' Who'), []);
    assert.equal(c.flush(), 'Ask Dr. Who');
  });

  it('gives the same sentences whatever the chunking', () => {
    const text = 'One. Two, three! Four? «Пять.» Six… Seven 7.5 eight.';
    const whole = splitSentences(text);
    for (const size of [1, 2, 3, 5, 8]) {
      const c = new SentenceChunker();
      const got: string[] = [];
      for (let i = 0; i < text.length; i += size) got.push(...c.push(text.slice(i, i + size)));
      const rest = c.flush();
      if (rest) got.push(rest);
      assert.deepEqual(got, whole, `chunk size ${size}`);
    }
  });
});
