// AvatarSession on its own, without the element: a page-made <video>/<audio>, the fake microphone
// playing the espeak-ng question, a Deepgram stand-in on loopback, and avatar providers registered
// from this file. Loaded from the npm build (dist/npm), so the registry the test registers with is
// the one the session loads providers from.
import { expect, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { registerAvatarProvider } from '../../dist/npm/avatar/registry.js';
import { AvatarSession } from '../../dist/npm/session/avatar-session.js';
import { AvatarServiceError, HeygenAvatarError } from '../../dist/npm/shared/errors.js';
import type { AvatarSessionOptions } from '../../dist/npm/session/avatar-session.js';
import type { AvatarMedia } from '../../dist/npm/avatar/provider.js';
import { FakeAvatar, answer, closes, fakeGate, sessionCount } from '../support/fake-avatar.js';
import { recordMicrophoneTracks } from '../support/microphone-tracks.js';

const QUESTION = 'what is the weather like today';

/** Every track getUserMedia hands out, to check none is left live. */
const handedOut = recordMicrophoneTracks();
const liveMicTracks = () => handedOut.filter((t) => t.readyState === 'live').length;

function media(): AvatarMedia {
  return { video: document.createElement('video'), audio: document.createElement('audio') };
}

function options(extra: Partial<AvatarSessionOptions> = {}): AvatarSessionOptions {
  return {
    tokenProvider: () => answer(),
    request: { language: 'en' },
    media: media(),
    language: 'en',
    sttModel: 'nova-2',
    endpointing: 400,
    utteranceEndMs: 1000,
    ...extra,
  };
}

/** Sessions the tests made, stopped after each test whatever happened in it. */
const made: AvatarSession[] = [];

/** Every event the session fires, in order. */
function record(session: AvatarSession) {
  made.push(session);
  const seen: { name: string; args: any[] }[] = [];
  for (const name of ['state', 'error', 'transcript', 'turn', 'reply', 'talking', 'started', 'ended', 'microphone'] as const) {
    session.on(name, (...args: any[]) => seen.push({ name, args }));
  }
  return {
    seen,
    names: (name: string) => seen.filter((e) => e.name === name).map((e) => e.args),
    errors: () => seen.filter((e) => e.name === 'error').map((e) => ({ error: e.args[0] as HeygenAvatarError & { reason?: string }, fatal: e.args[1] as boolean })),
    states: () => seen.filter((e) => e.name === 'state').map((e) => e.args[0] as string),
  };
}

describe('AvatarSession', function () {
  this.timeout(60_000);

  beforeEach(async () => {
    fakeGate.next = () => Promise.resolve();
    FakeAvatar.made = [];
    await executeServerCommand('recorder:take');
  });

  afterEach(async () => {
    await Promise.all(made.splice(0).map((session) => session.stop()));
    await waitUntil(() => liveMicTracks() === 0, 'microphone released after the test', { timeout: 5000 });
  });

  it('runs a whole spoken conversation through a provider registered from a test file', async () => {
    const llmTurns: string[] = [];
    const session = new AvatarSession(
      options({
        greeting: 'Hello there.',
        llm: (turn) => {
          llmTurns.push(turn.text);
          return 'It is sunny. Take a hat!';
        },
      }),
    );
    const r = record(session);
    // The fake microphone loops the question: one turn is enough.
    session.on('turn', () => session.mute(true));
    await session.start();
    // Live: listening, or already speaking the greeting.
    expect(['listening', 'speaking']).to.include(session.state);
    const fake = FakeAvatar.made[0];
    expect(fake.sessionId).to.equal(session.sessionId);
    expect(fake.access).to.deep.equal({ provider: 'test-fake', room: 'made-up' });
    expect(r.names('started')).to.deep.equal([[session.sessionId]]);
    expect(fake.calls[0]).to.equal('start');

    await waitUntil(() => r.names('reply').length > 0, 'a reply to the spoken question', { timeout: 30_000 });
    const [turnText, source] = r.names('turn')[0];
    expect(turnText.toLowerCase().replace(/[.?!]/g, '')).to.equal(QUESTION);
    expect(source).to.equal('voice');
    expect(llmTurns.map((t) => t.toLowerCase().replace(/[.?!]/g, ''))).to.deep.equal([QUESTION]);
    expect(r.names('transcript').some(([text, final]) => final && text.toLowerCase().includes('weather'))).to.be.true;
    await waitUntil(() => fake.spoken.length === 3, 'greeting and two sentences spoken');
    expect(fake.spoken).to.deep.equal(['Hello there.', 'It is sunny.', 'Take a hat!']);
    // The fake avatar stops talking 100 ms after each sentence.
    await waitUntil(() => r.names('talking').some(([t]) => t === false), 'stopped talking');
    expect(r.names('talking').map(([t]) => t)).to.include.members([true, false]);
    // 'thinking' may be skipped: a preemptive reply can be ready by the time the turn is confirmed.
    expect(r.states()).to.include.members(['listening', 'speaking']);
    expect(session.history.map((m) => m.role)).to.deep.equal(['assistant', 'user', 'assistant']);

    await session.stop();
    expect(session.state).to.equal('ended');
    expect(fake.calls.at(-1)).to.equal('stop');
    const [ended] = r.names('ended');
    expect(ended[0]).to.equal(session.sessionId);
    expect(ended[1]).to.equal('stopped');
    expect(ended[2].length).to.equal(3);
    const closed = await closes(session.sessionId);
    expect(closed.map((c) => JSON.parse(c.body))).to.deep.equal([{ sessionId: session.sessionId, sessionKey: `key-${sessionCount}` }]);
    expect(r.errors()).to.deep.equal([]);
    await waitUntil(async () => (await executeServerCommand<number, any>('deepgram:open-streams')) === 0, 'Deepgram stream closed');
  });

  it('plays the provider’s media into the elements it was given, and say()/send() reach the provider', async () => {
    const m = media();
    const session = new AvatarSession(options({ media: m, muted: true, llm: () => 'Typed answer.' }));
    await session.start();
    expect((m.video.srcObject as MediaStream).getVideoTracks().length).to.equal(1);
    await session.say('Said verbatim.');
    await session.send('A typed question');
    const fake = FakeAvatar.made[0];
    await waitUntil(() => fake.spoken.length === 2, 'both spoken');
    expect(fake.spoken).to.deep.equal(['Said verbatim.', 'Typed answer.']);
    await session.stop();
    let message = '';
    await session.say('too late').catch((e: Error) => (message = e.message));
    expect(message).to.equal('heygen-avatar: say() needs a running session; call start() first');
  });

  it('stop() while the session endpoint is answering: start() settles, the late answer is reported closed, no provider is made', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const session = new AvatarSession(
      options({
        // A tokenProvider that ignores the abort signal, as a page's own may.
        tokenProvider: async () => {
          const a = await answer();
          await held;
          return a;
        },
      }),
    );
    const r = record(session);
    const started = session.start();
    await new Promise((r) => setTimeout(r, 50));
    await session.stop('removed');
    release();
    await started;
    expect(session.state).to.equal('ended');
    expect(FakeAvatar.made.length).to.equal(0);
    expect((await closes(`fake-session-${sessionCount}`)).length, 'late answer reported closed').to.equal(1);
    expect(r.errors()).to.deep.equal([]);
    expect(r.names('ended')).to.deep.equal([]);
  });

  it('stop() while the provider is starting stops the provider, reports the close, and ends with the reason', async () => {
    let release!: () => void;
    fakeGate.next = () => new Promise<void>((r) => (release = r));
    const session = new AvatarSession(options());
    const r = record(session);
    const started = session.start();
    await waitUntil(() => FakeAvatar.made.length === 1 && FakeAvatar.made[0].calls.includes('start'), 'provider starting');
    await session.stop('removed');
    release();
    await started;
    expect(session.state).to.equal('ended');
    expect(FakeAvatar.made[0].calls).to.include('stop');
    expect(r.names('ended').map((a) => a[1])).to.deep.equal(['removed']);
    expect(r.names('started')).to.deep.equal([]);
    expect((await closes(session.sessionId)).length).to.equal(1);
  });

  describe('a failing part', () => {
    async function failedStart(o: AvatarSessionOptions) {
      const session = new AvatarSession(o);
      const r = record(session);
      let thrown: unknown;
      await session.start().catch((e) => (thrown = e));
      return { session, r, thrown };
    }

    it('the session endpoint: a token-endpoint error, fatal, start() rejects with it, nothing left open', async () => {
      const { session, r, thrown } = await failedStart(options({ tokenProvider: undefined, tokenEndpoint: '/_token-fault/500' }));
      const [e] = r.errors();
      expect(e.error.type).to.equal('token-endpoint');
      expect(e.error.recoverable).to.be.true;
      expect(e.error.message).to.include('500');
      expect(e.fatal).to.be.true;
      expect(thrown).to.equal(e.error);
      expect(session.state).to.equal('error');
      expect(r.errors().length).to.equal(1);
    });

    it('a page tokenProvider that throws: a token-endpoint error carrying the cause', async () => {
      const boom = new Error('no credentials today');
      const { r } = await failedStart(options({ tokenProvider: () => Promise.reject(boom) }));
      const [e] = r.errors();
      expect(e.error).to.be.instanceOf(HeygenAvatarError);
      expect(e.error.type).to.equal('token-endpoint');
      expect(e.error.message).to.equal('no credentials today');
      expect(e.error.cause).to.equal(boom);
    });

    it('an answer naming a provider nobody registered: a clear, unrecoverable token-endpoint error', async () => {
      const { r, session } = await failedStart(options({ tokenProvider: () => answer('no-such-service') }));
      const [e] = r.errors();
      expect(e.error.type).to.equal('token-endpoint');
      expect(e.error.recoverable).to.be.false;
      expect(e.error.message).to.include('"no-such-service"');
      expect(e.error.message).to.include('heygen-streaming');
      expect(session.state).to.equal('error');
      expect((await closes(`fake-session-${sessionCount}`)).length, 'the answered session is reported closed').to.equal(1);
    });

    it('a provider whose code cannot be loaded: a recoverable load error', async () => {
      registerAvatarProvider('test-unloadable', () => Promise.reject(new TypeError('Failed to fetch dynamically imported module')));
      const { r } = await failedStart(options({ tokenProvider: () => answer('test-unloadable') }));
      const [e] = r.errors();
      expect(e.error.type).to.equal('load');
      expect(e.error.recoverable).to.be.true;
      expect(e.error.message).to.include('test-unloadable');
    });

    it('a built-in provider given an incomplete avatar block names the missing field', async () => {
      const { r } = await failedStart(options({ tokenProvider: () => answer('heygen-streaming', { apiBase: 'http://127.0.0.1:9', token: 't' }) }));
      const [e] = r.errors();
      expect(e.error.type).to.equal('token-endpoint');
      expect(e.error.message).to.equal('the token endpoint\'s answer lacks a valid "avatar.livekit.url"');
    });

    it('the avatar service refusing to start: an avatar error, fatal; microphone released and the session reported closed', async () => {
      fakeGate.next = () => Promise.reject(new AvatarServiceError('streaming.start failed: quota (code 10004)', 10004, false));
      const { r, session, thrown } = await failedStart(options());
      const [e] = r.errors();
      expect(e.error.type).to.equal('avatar');
      expect(e.error.recoverable).to.be.false;
      expect(e.fatal).to.be.true;
      expect((thrown as Error).message).to.include('10004');
      expect(session.state).to.equal('error');
      expect(FakeAvatar.made[0].calls).to.include('stop');
      expect((await closes(session.sessionId)).length).to.equal(1);
      expect(r.names('ended').map((a) => a[1])).to.deep.equal(['error']);
    });

    it('a media failure that is not ours becomes a livekit error', async () => {
      fakeGate.next = () => Promise.reject(new Error('could not establish pc connection'));
      const { r } = await failedStart(options());
      expect(r.errors().map((e) => [e.error.type, e.fatal])).to.deep.equal([['livekit', true]]);
    });

    it('the transcriber cannot connect: a recoverable transcriber error, and the session goes on in text', async () => {
      const session = new AvatarSession(
        options({ llm: () => 'Still here.', tokenProvider: async () => ({ ...(await answer()), stt: { provider: 'deepgram', url: 'http://127.0.0.1:9', token: 't', expiresIn: 30, refreshUrl: '/_recorder/stt-token' } }) }),
      );
      const r = record(session);
      await session.start();
      expect(session.state).to.equal('listening');
      const [e] = r.errors();
      expect(e.error.type).to.equal('transcriber');
      expect(e.error.recoverable).to.be.true;
      expect(e.fatal).to.be.false;
      await session.send('typed');
      await waitUntil(() => FakeAvatar.made[0].spoken.includes('Still here.'), 'typed turn answered');
      await session.stop();
    });

    it('a denied microphone: one recoverable microphone error with reason denied, and the session goes on', async () => {
      const wrapped = navigator.mediaDevices.getUserMedia;
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
      let session: AvatarSession;
      let r: ReturnType<typeof record>;
      try {
        session = new AvatarSession(options());
        r = record(session);
        await session.start();
      } finally {
        navigator.mediaDevices.getUserMedia = wrapped;
      }
      expect(session.state).to.equal('listening');
      expect(r.errors().map((e) => [e.error.type, e.error.reason, e.error.recoverable, e.fatal])).to.deep.equal([['microphone', 'denied', true, false]]);
      expect(r.names('microphone')).to.deep.equal([]);
      await session.stop();
    });

    it('the LLM failing: a recoverable llm error, the session listens again', async () => {
      const session = new AvatarSession(options({ muted: true, llm: () => Promise.reject(new Error('model overloaded')) }));
      const r = record(session);
      await session.start();
      await session.send('hello');
      await waitUntil(() => r.errors().length === 1, 'llm error');
      const [e] = r.errors();
      expect(e.error.type).to.equal('llm');
      expect(e.error.recoverable).to.be.true;
      expect(e.error.message).to.include('model overloaded');
      await waitUntil(() => session.state === 'listening', 'listening again');
      await session.stop();
    });

    it('the service ending the session: a fatal session error and an end with reason ended-by-service', async () => {
      const session = new AvatarSession(options({ muted: true }));
      const r = record(session);
      await session.start();
      FakeAvatar.made[0].emit('ended', 'avatar-left');
      await waitUntil(() => session.state === 'ended', 'ended');
      expect(r.errors().map((e) => [e.error.type, e.error.recoverable, e.fatal])).to.deep.equal([['session', false, true]]);
      expect(r.names('ended').map((a) => a[1])).to.deep.equal(['ended-by-service']);
      expect((await closes(session.sessionId)).length).to.equal(1);
    });
  });
});
