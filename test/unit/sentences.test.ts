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

describe('splitSentences: Russian', () => {
  it('keeps «т. е.», «т. к.», «т.е.» and «и т. д.» inside a sentence, and ends it at «и т. д.» before a capital', () => {
    assert.deepEqual(splitSentences('Мы опоздали, т. к. шёл дождь, т. е. ливень. Взяли хлеб, сыр и т. д. Потом ушли. Всё т.е. готово.'), [
      'Мы опоздали, т. к. шёл дождь, т. е. ливень.',
      'Взяли хлеб, сыр и т. д.',
      'Потом ушли.',
      'Всё т.е. готово.',
    ]);
    assert.deepEqual(splitSentences('Фрукты, овощи и т. п. продаются здесь. Да.'), ['Фрукты, овощи и т. п. продаются здесь.', 'Да.']);
  });

  it('keeps initials with their name, and tells «г.» of a year from «г.» of a town', () => {
    assert.deepEqual(splitSentences('А. С. Пушкин родился в 1799 г. в Москве. Его учил проф. Иванов. Это было в 1811 г. Потом был лицей.'), [
      'А. С. Пушкин родился в 1799 г. в Москве.',
      'Его учил проф. Иванов.',
      'Это было в 1811 г.',
      'Потом был лицей.',
    ]);
    assert.deepEqual(splitSentences('Мы живём в г. Москва, ул. Тверская. Приходите!'), ['Мы живём в г. Москва, ул. Тверская.', 'Приходите!']);
    assert.deepEqual(splitSentences('Ветер до 10 м/с. Дождя нет.'), ['Ветер до 10 м/с.', 'Дождя нет.']);
  });

  it('keeps decimals with a comma or a point, and numbers with abbreviations', () => {
    assert.deepEqual(splitSentences('Температура 3,5 градуса. Завтра 4.5 градуса, около 2 тыс. человек придут. Итого 3.5. Конец.'), [
      'Температура 3,5 градуса.',
      'Завтра 4.5 градуса, около 2 тыс. человек придут.',
      'Итого 3.5.',
      'Конец.',
    ]);
  });

  it('carries a sentence on after an ellipsis before a small letter, and after a closing quote before a dash', () => {
    assert.deepEqual(splitSentences('Ну… я не знаю. Подожди... Вот! «Привет!» — сказал он. Она ответила: «Да.» Потом ушла.'), [
      'Ну… я не знаю.',
      'Подожди...',
      'Вот!',
      '«Привет!» — сказал он.',
      'Она ответила: «Да.»',
      'Потом ушла.',
    ]);
  });
});

describe('splitSentences: English', () => {
  it('keeps "etc." inside a sentence before a small letter and ends it before a capital; a.m. and No. likewise', () => {
    assert.deepEqual(splitSentences('Bring tea, milk, etc. for the trip. We have bread, jam, etc. Then we go at 9 a.m. Is that No. 5? No. It is not.'), [
      'Bring tea, milk, etc. for the trip.',
      'We have bread, jam, etc.',
      'Then we go at 9 a.m.',
      'Is that No. 5?',
      'No.',
      'It is not.',
    ]);
  });
});

describe('splitSentences: Chinese and Japanese', () => {
  it('ends a sentence at 。！？ with no space after', () => {
    assert.deepEqual(splitSentences('你好。今天天气很好！你想去哪里？我们去公园吧。'), ['你好。', '今天天气很好！', '你想去哪里？', '我们去公园吧。']);
    assert.deepEqual(splitSentences('こんにちは。元気ですか？はい、元気です！'), ['こんにちは。', '元気ですか？', 'はい、元気です！']);
  });

  it('keeps a quoted sentence with what follows it, and splits between two quotes', () => {
    assert.deepEqual(splitSentences('「こんにちは。」と彼は言った。「はい。」「いいえ。」'), ['「こんにちは。」と彼は言った。', '「はい。」', '「いいえ。」']);
    assert.deepEqual(splitSentences('他说：“我很好。”然后走了。'), ['他说：“我很好。”然后走了。']);
  });

  it('cuts an over-long sentence at a full-width comma, not after its first character', () => {
    const long = `${'天气很好'.repeat(20)}，${'我们去公园'.repeat(20)}。`;
    const parts = splitSentences(long, { maxLength: 150 });
    assert.deepEqual(parts, [`${'天气很好'.repeat(20)}，`, `${'我们去公园'.repeat(20)}。`]);
    const unbroken = '天'.repeat(300);
    assert.deepEqual(splitSentences(unbroken, { maxLength: 120 }).map((p) => p.length), [120, 120, 60]);
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

  it('waits at a trailing abbreviation that may end a sentence, an ellipsis or a closing quote until the next word shows', () => {
    const c = new SentenceChunker();
    assert.deepEqual(c.push('Хлеб, сыр и т. д.'), []);
    assert.deepEqual(c.push(' Потом'), ['Хлеб, сыр и т. д.']);
    assert.deepEqual(c.push(' ушли… '), []);
    assert.deepEqual(c.push('и'), []);
    assert.deepEqual(c.push(' вернулись. «Да!»'), ['Потом ушли… и вернулись.']);
    assert.deepEqual(c.push(' —'), []);
    assert.deepEqual(c.push(' сказал он. '), ['«Да!» — сказал он.']);
    assert.deepEqual(c.push('你好。'), ['你好。']);
    assert.equal(c.flush(), undefined);
  });

  it('gives the same sentences whatever the chunking', () => {
    const text = 'One. Two, three! Four? «Пять.» Six… Seven 7.5 eight. А. С. Пушкин, т. е. поэт, и т. д. Ну… да. «Да!» — сказал он. 你好。再见！';
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
