// A whole conversation in Russian, as a Russian visitor gets it: the built script bundle in
// Chromium with language="ru", an espeak-ng Russian question as the microphone (this page's
// getUserMedia plays test/.fixtures/mic-ru.wav: the browser's fake device plays the English one),
// the session broker, the offline Deepgram/LLM/avatar stand-ins and a real LiveKit server.
import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import '../../dist/heygen-avatar.js';
import { splitSentences } from '../../src/conversation/sentences.js';
import type { HeygenAvatar } from '../../src/element/heygen-avatar.js';
import ru from '../../src/element/strings/ru.js';
import { recordAudio } from '../support/media-probe.js';
import { AVATAR_PROVIDERS } from '../support/providers.js';
import { speakIntoMicrophone } from '../support/speech-microphone.js';

const QUESTION = 'Какая сегодня погода?';
const GREETING = 'Здравствуйте! Чем помочь?';
/** The LLM stand-in's scripted answer to the question, as the avatar must get it: sentence by sentence. */
const SENTENCES = [
  'Сегодня в Москве облачно, около +3,5 °C, т. е. прохладно.',
  'Ветер северо-западный, 4–6 м/с, к вечеру до 10 м/с.',
  'По данным А. С. Попова из метеобюро, осадков до 2 мм.',
  'Возьмите зонт, шарф и т. д.',
  'Хорошего дня!',
];

speakIntoMicrophone('/test/.fixtures/mic-ru.wav');

interface TaskRecord {
  sessionId: string;
  text: string;
}

const text = (el: HeygenAvatar, selector: string) => el.shadowRoot!.querySelector(selector)!.textContent!.trim();

for (const provider of AVATAR_PROVIDERS) {
  describe(`<heygen-avatar> a Russian conversation, end to end (offline world, ${provider})`, function () {
    this.timeout(120_000);
    let tokenEndpoint: string;

    before(async () => {
      ({ tokenEndpoint } = await executeServerCommand<{ tokenEndpoint: string }, any>('world:start', { provider }));
    });

    it('hears the Russian question, answers it sentence by sentence, and speaks Russian, with a Russian UI', async () => {
      const el = await fixture<HeygenAvatar>(html`<heygen-avatar token-endpoint=${tokenEndpoint} language="ru" greeting=${GREETING}></heygen-avatar>`);
      expect(text(el, '[part~="start-button"]')).to.equal(ru.start);
      expect(text(el, '[role="status"]')).to.equal(ru.states.idle);
      const transcripts: { text: string; final: boolean }[] = [];
      const errors: unknown[] = [];
      el.addEventListener('heygen-avatar:transcript', (e) => transcripts.push(e.detail));
      el.addEventListener('heygen-avatar:error', (e) => errors.push(e.detail));
      // After the first turn, mute: the microphone loops the question.
      el.addEventListener('heygen-avatar:turn', () => el.mute(), { once: true });
      const startedAt = Date.now();
      await el.start();
      expect(text(el, '[part~="start-button"]')).to.equal(ru.stop);

      // The avatar's first words of the reply, as they arrive in the page, recorded from the moment it starts talking.
      const replyTalking = oneEvent(el, 'heygen-avatar:turn').then(
        () => new Promise<void>((resolve) => el.addEventListener('heygen-avatar:talking', (e) => e.detail.talking && resolve())),
      );
      const audio = el.shadowRoot!.querySelector('audio')!;
      const heard = replyTalking.then(() => recordAudio((audio.srcObject as MediaStream).getAudioTracks()[0], 2500));

      const { detail: turn } = await oneEvent(el, 'heygen-avatar:turn');
      expect(turn.text, 'the turn, exactly').to.equal(QUESTION);
      expect(turn.source).to.equal('voice');
      expect(transcripts.filter((t) => t.final).map((t) => t.text)).to.deep.equal([QUESTION]);
      for (const t of transcripts.filter((t) => !t.final)) expect(QUESTION.startsWith(t.text), `interim "${t.text}"`).to.be.true;

      const listens = await executeServerCommand<{ query: Record<string, string>; openedAt: number }[], any>('world:deepgram-listens');
      const ours = listens.filter((l) => l.openedAt >= startedAt - 1000);
      expect(ours.length, 'Deepgram streams of this session').to.be.at.least(1);
      for (const l of ours) {
        expect(l.query.language).to.equal('ru');
        expect(l.query.model).to.equal('nova-2');
        expect(l.query.smart_format).to.equal('true');
      }

      const { detail: reply } = await oneEvent(el, 'heygen-avatar:reply');
      expect(reply.interrupted).to.be.false;
      expect(splitSentences(reply.text)).to.deep.equal(SENTENCES);
      const calls = await executeServerCommand<{ messages: { role: string; text: string }[] }[], any>('world:llm-calls');
      // A preemptive call, made at the visitor's first pause, asks with the words so far (no closing mark yet).
      expect(calls.at(-1)!.messages.at(-1)!.text.replace(/\?$/, ''), 'what the LLM was asked').to.equal(QUESTION.replace(/\?$/, ''));

      const sentTasks = async () =>
        (await executeServerCommand<TaskRecord[], any>('world:tasks')).filter((t) => t.sessionId === el.sessionId).map((t) => t.text);
      await waitUntil(async () => (await sentTasks()).length === SENTENCES.length + 1, 'every sentence reached the avatar', { timeout: 10_000 });
      expect(await sentTasks(), 'the greeting, then the reply sentence by sentence, in order').to.deep.equal([GREETING, ...SENTENCES]);

      // What the page heard is the Russian voice saying the first sentence (recognised against the
      // stand-in's own Russian rendering of it), and not another sentence of the reply.
      const pcm = await heard;
      const first = await executeServerCommand<{ words: string[] }, any>('speech:recognize', { pcm, language: 'ru', phrases: [SENTENCES[0]] });
      expect(first.words.length, `words heard: ${first.words.join(' ')}`).to.be.at.least(2);
      expect(first.words).to.deep.equal(['сегодня', 'в', 'москве', 'облачно', 'около', '3,5', 'c'].slice(0, first.words.length));
      const other = await executeServerCommand<{ words: string[] }, any>('speech:recognize', { pcm, language: 'ru', phrases: [SENTENCES[2]] });
      expect(other.words, 'not the third sentence').to.deep.equal([]);

      const captions = el.shadowRoot!.querySelector('[part~="captions"]')!;
      expect(captions.getAttribute('aria-label')).to.equal(ru.captions);
      expect(captions.textContent).to.include(`${ru.you}:${QUESTION}`);
      expect(captions.textContent).to.include(`${ru.avatar}:`);
      expect(el.shadowRoot!.querySelector('input[name="message"]')!.getAttribute('placeholder')).to.equal(ru.typeHere);

      const ended = oneEvent(el, 'heygen-avatar:session-end');
      await el.stop();
      expect((await ended).detail.reason).to.equal('stopped');
      expect(text(el, '[role="status"]')).to.equal(ru.states.ended);
      expect(errors).to.deep.equal([]);
    });
  });
}
