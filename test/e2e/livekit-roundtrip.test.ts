// A real LiveKit server on loopback, a Node publisher (@livekit/rtc-node) and this Chromium page
// (livekit-client): the page must decode frames that change and audio with energy.
import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { Room, RoomEvent, Track, type RemoteTrack } from 'livekit-client';
import { measureAudio, sampleFrames, signatureDistance } from '../support/media-probe.js';

async function joinAndReceive(room: string, mode: 'moving' | 'frozen') {
  const { url, token } = await executeServerCommand<{ url: string; token: string }, any>('livekit:publish', { room, mode });
  const lk = new Room();
  const tracks = new Map<Track.Kind, RemoteTrack>();
  const both = new Promise<void>((resolve) => {
    lk.on(RoomEvent.TrackSubscribed, (track) => {
      tracks.set(track.kind, track);
      if (tracks.has(Track.Kind.Video) && tracks.has(Track.Kind.Audio)) resolve();
    });
  });
  await lk.connect(url, token);
  await Promise.race([both, new Promise((_, reject) => setTimeout(() => reject(new Error('no tracks within 15 s')), 15_000))]);
  const video = tracks.get(Track.Kind.Video)!.attach() as HTMLVideoElement;
  video.muted = true;
  document.body.append(video);
  const start = performance.now();
  while (video.readyState < 2 || video.videoWidth === 0) {
    if (performance.now() - start > 10_000) throw new Error('video never decoded a frame');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { lk, video, audioTrack: tracks.get(Track.Kind.Audio)!.mediaStreamTrack };
}

async function cleanup(lk: Room, video: HTMLVideoElement) {
  video.remove();
  await lk.disconnect();
  await executeServerCommand('livekit:stop-publishers');
}

describe('LiveKit media round trip (real server)', () => {
  it('receives video frames that change over time and audio with energy', async () => {
    const { lk, video, audioTrack } = await joinAndReceive('roundtrip-moving', 'moving');
    try {
      expect(video.videoWidth).to.equal(640);
      expect(video.videoHeight).to.equal(360);
      const frames = await sampleFrames(video, 5, 200);
      const changes = frames.slice(1).map((f, i) => signatureDistance(frames[i], f));
      expect(Math.min(...changes), `frame-to-frame change ${changes.join(', ')}`).to.be.greaterThan(2);
      const audio = await measureAudio(audioTrack, 1500);
      expect(audio.peakDb, 'peak level of the received tone').to.be.greaterThan(-30);
      expect(audio.activeRatio, 'share of 50 ms windows with sound').to.be.greaterThan(0.6);
    } finally {
      await cleanup(lk, video);
    }
  });

  it('sees a still picture and silence when the publisher sends nothing new (the measurement can fail)', async () => {
    const { lk, video, audioTrack } = await joinAndReceive('roundtrip-frozen', 'frozen');
    try {
      const frames = await sampleFrames(video, 5, 200);
      const changes = frames.slice(1).map((f, i) => signatureDistance(frames[i], f));
      expect(Math.max(...changes), `frame-to-frame change ${changes.join(', ')}`).to.be.lessThan(2);
      const audio = await measureAudio(audioTrack, 1000);
      expect(audio.peakDb, 'peak level of silence').to.be.lessThan(-60);
    } finally {
      await cleanup(lk, video);
    }
  });
});
