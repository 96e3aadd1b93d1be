// The HeyGen stand-in's synthetic avatar, seen from a Chromium page as a viewer: a `repeat` task is
// heard (audio energy in the received track for about `duration_ms`) and seen (the mouth moves while
// talking; the picture settles when silent), with HeyGen's data messages around it.
import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { Room, RoomEvent, Track, type RemoteTrack } from 'livekit-client';
import { measureAudio, sampleFrames, signatureDistance } from '../support/media-probe.js';

interface SessionInfo {
  apiBase: string;
  token: string;
  session: { session_id: string; url: string; access_token: string };
}

async function api(info: SessionInfo, path: string, body: Record<string, unknown>) {
  const res = await fetch(`${info.apiBase}/v1/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${info.token}` },
    body: JSON.stringify({ session_id: info.session.session_id, ...body }),
  });
  return (await res.json()) as { code: number; data: any; message: string };
}

describe('offline avatar (HeyGen stand-in + real LiveKit)', () => {
  it('speaks a repeat task: audio lasts duration_ms, the mouth moves, then the picture settles', async () => {
    const info = await executeServerCommand<SessionInfo, any>('heygen:session', {});
    expect((await api(info, 'streaming.start', {})).code).to.equal(100);

    const room = new Room();
    const messages: any[] = [];
    const tracks = new Map<Track.Kind, RemoteTrack>();
    const both = new Promise<void>((resolve) =>
      room.on(RoomEvent.TrackSubscribed, (t) => {
        tracks.set(t.kind, t);
        if (tracks.size === 2) resolve();
      }),
    );
    room.on(RoomEvent.DataReceived, (payload) => messages.push(JSON.parse(new TextDecoder().decode(payload))));
    await room.connect(info.session.url, info.session.access_token);
    await both;
    const video = tracks.get(Track.Kind.Video)!.attach() as HTMLVideoElement;
    video.muted = true;
    document.body.append(video);
    while (video.readyState < 2) await new Promise((r) => setTimeout(r, 50));
    expect(video.videoWidth).to.be.at.least(640);
    expect(video.videoHeight).to.be.at.least(360);

    try {
      // Let the video encoder settle on the still picture before measuring it.
      await new Promise((r) => setTimeout(r, 1000));
      const silentBefore = await sampleFrames(video, 4, 150);
      const still = silentBefore.slice(1).map((f, i) => signatureDistance(silentBefore[i], f));
      expect(Math.max(...still), `silent avatar frame changes ${still}`).to.be.lessThan(0.5);

      const audioTrack = tracks.get(Track.Kind.Audio)!.mediaStreamTrack;
      const heard = measureAudio(audioTrack, 5000);
      const task = await api(info, 'streaming.task', {
        text: 'Hello, I am the offline avatar, and I speak this sentence for the test.',
        task_type: 'repeat',
      });
      expect(task.code).to.equal(100);
      const durationMs: number = task.data.duration_ms;
      await new Promise((r) => setTimeout(r, 400));
      const talking = await sampleFrames(video, 8, 120);
      const moves = talking.slice(1).map((f, i) => signatureDistance(talking[i], f));
      expect(Math.max(...moves), `talking frame changes ${moves}`).to.be.greaterThan(1.5);

      const audio = await heard;
      const active = audio.windows.map((db) => db > -45);
      const first = active.indexOf(true);
      const last = active.lastIndexOf(true);
      expect(first, 'speech heard').to.be.greaterThan(-1);
      const heardMs = (last - first + 1) * 50;
      expect(Math.abs(heardMs - durationMs) / durationMs, `heard ${heardMs} ms for duration_ms ${durationMs}`).to.be.lessThan(0.15);

      const silentAfter = await sampleFrames(video, 4, 150);
      const settled = silentAfter.slice(1).map((f, i) => signatureDistance(silentAfter[i], f));
      expect(Math.max(...settled), `after speech frame changes ${settled}`).to.be.lessThan(0.5);

      const types = messages.map((m) => m.type);
      expect(types).to.include.members(['avatar_start_talking', 'avatar_stop_talking']);
      const stop = messages.find((m) => m.type === 'avatar_stop_talking');
      expect(stop.task_id).to.equal(task.data.task_id);
      expect(stop.duration_ms).to.equal(durationMs);
      expect(messages.find((m) => m.type === 'avatar_start_talking').session_id).to.equal(info.session.session_id);
    } finally {
      video.remove();
      expect((await api(info, 'streaming.stop', {})).code).to.equal(100);
      await room.disconnect();
    }
    expect(await executeServerCommand('heygen:open-sessions')).to.equal(0);
  });

  it('stops speaking within 100 ms of streaming.interrupt', async () => {
    const info = await executeServerCommand<SessionInfo, any>('heygen:session', {});
    await api(info, 'streaming.start', {});
    const room = new Room();
    const audioTrack = new Promise<MediaStreamTrack>((resolve) =>
      room.on(RoomEvent.TrackSubscribed, (t) => t.kind === Track.Kind.Audio && resolve(t.mediaStreamTrack)),
    );
    await room.connect(info.session.url, info.session.access_token);
    const track = await audioTrack;
    try {
      const heard = measureAudio(track, 4000);
      const task = await api(info, 'streaming.task', { text: 'This is a long sentence that will be cut off in the middle by an interrupt call.' });
      expect(task.data.duration_ms).to.be.greaterThan(3000);
      await new Promise((r) => setTimeout(r, 1200));
      const sent = performance.now();
      expect((await api(info, 'streaming.interrupt', {})).code).to.equal(100);
      const answered = performance.now() - sent;
      const audio = await heard;
      // Windows are 50 ms apart from the start of measuring; find where sound stops for good.
      const lastActive = audio.windows.map((db) => db > -45).lastIndexOf(true);
      const heardMs = (lastActive + 1) * 50;
      expect(heardMs, `heard ${heardMs} ms of a ${task.data.duration_ms} ms task`).to.be.lessThan(task.data.duration_ms * 0.7);
      expect(answered, 'interrupt answered').to.be.lessThan(100);
    } finally {
      await api(info, 'streaming.stop', {});
      await room.disconnect();
    }
  });
});
