// A Node participant that publishes one video track and one audio track into a LiveKit room,
// driven by callbacks that paint frames and supply PCM. The synthetic avatar is built on it.
import {
  AudioFrame,
  AudioSource,
  LocalAudioTrack,
  LocalVideoTrack,
  Room,
  TrackPublishOptions,
  TrackSource,
  VideoBufferType,
  VideoFrame,
  VideoSource,
} from '@livekit/rtc-node';

export interface MediaPublisherOptions {
  url: string;
  token: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Output sample rate of the audio track (48 kHz, as HeyGen's Opus track). */
  sampleRate?: number;
  /** Paints frame number `index` into `rgba` (width × height × 4 bytes). */
  paint: (rgba: Uint8Array, index: number) => void;
  /** Fills `pcm` (10 ms of mono Int16 at `sampleRate`) with the next audio; leave zeros for silence. */
  pull: (pcm: Int16Array) => void;
}

export interface MediaPublisher {
  readonly room: Room;
  /** Sends a UTF-8 JSON data message to every participant (reliable). */
  sendJson(message: unknown, topic?: string): Promise<void>;
  /** Drops audio already queued in the source, so a stop is heard within one frame. */
  clearAudio(): void;
  close(): Promise<void>;
}

const AUDIO_FRAME_MS = 10;

export async function publishMedia(options: MediaPublisherOptions): Promise<MediaPublisher> {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const fps = options.fps ?? 25;
  const sampleRate = options.sampleRate ?? 48_000;

  const room = new Room();
  await room.connect(options.url, options.token, { autoSubscribe: false, dynacast: false });

  const video = new VideoSource(width, height);
  // A short queue keeps the latency from `pull` to the wire small (interrupts are heard at once).
  const audio = new AudioSource(sampleRate, 1, 60);
  const videoTrack = LocalVideoTrack.createVideoTrack('avatar-video', video);
  const audioTrack = LocalAudioTrack.createAudioTrack('avatar-audio', audio);
  await room.localParticipant!.publishTrack(videoTrack, new TrackPublishOptions({ source: TrackSource.SOURCE_CAMERA }));
  await room.localParticipant!.publishTrack(audioTrack, new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }));

  let closed = false;
  const rgba = new Uint8Array(width * height * 4);
  let frameIndex = 0;
  const started = performance.now();
  const videoTimer = setInterval(() => {
    // Paint the frame the wall clock is at, so a late tick does not slow the picture down.
    const due = Math.floor(((performance.now() - started) * fps) / 1000);
    if (due < frameIndex) return;
    frameIndex = due + 1;
    options.paint(rgba, due);
    video.captureFrame(new VideoFrame(rgba, width, height, VideoBufferType.RGBA));
  }, 1000 / fps);

  const samplesPerFrame = (sampleRate * AUDIO_FRAME_MS) / 1000;
  const audioLoop = (async () => {
    while (!closed) {
      const pcm = new Int16Array(samplesPerFrame);
      options.pull(pcm);
      // Resolves when the source's queue has room: this paces the loop in real time.
      await audio.captureFrame(new AudioFrame(pcm, sampleRate, 1, samplesPerFrame));
    }
  })().catch((err: unknown) => {
    if (!closed) console.error('heygen-avatar offline: audio publishing failed', err);
  });

  const encoder = new TextEncoder();
  return {
    room,
    async sendJson(message, topic) {
      if (closed) return;
      await room.localParticipant!.publishData(encoder.encode(JSON.stringify(message)), {
        reliable: true,
        ...(topic ? { topic } : {}),
      });
    },
    clearAudio() {
      audio.clearQueue();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(videoTimer);
      audio.clearQueue();
      await audioLoop;
      await room.disconnect();
      await audio.close();
    },
  };
}
