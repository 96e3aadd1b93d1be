// The microphone of the Firefox and WebKit test runs (loaded before the test framework by
// test/support/other-engines.mjs): Firefox's fake device is a tone and WebKitGTK's mock device a
// beep, so getUserMedia's audio in these pages is test/.fixtures/mic.wav instead, the same espeak-ng
// speech Chromium's fake device plays (`--use-file-for-fake-audio-capture`), from its start, looped.
//
// Only the source is replaced. Everything after getUserMedia is the real path of each engine: the
// AudioContext at the device's rate, the capture AudioWorklet and its own resampler to 16 kHz, the
// Deepgram socket. The constraints (echo cancellation, noise suppression, gain control) are accepted
// and not applied: the file is the signal a microphone with processing off gives.
//
// The engine's own capture device is opened too and held while the file plays, so the page is
// capturing, as with a real microphone: engines let a capturing page start audio without a gesture
// (WebKit's rule for iOS, which the WebKit run keeps on). A failure to open it (denied, none) is the
// failure this getUserMedia reports. Stopping the track releases the device.
import { fileStream } from './file-microphone.js';

const FIXTURE = '/test/.fixtures/mic.wav';

/** The knobs for tests, on `globalThis.fileMicrophone`. */
export interface EngineMicrophone {
  /** The rate the file plays at (see file-microphone.ts); undefined: the device's rate. */
  sampleRate: number | undefined;
  /** False: getUserMedia is the engine's own again (its fake or mock device). */
  enabled: boolean;
}
const settings: EngineMicrophone = { sampleRate: undefined, enabled: true };
(globalThis as { fileMicrophone?: EngineMicrophone }).fileMicrophone = settings;

const mediaDevices = navigator.mediaDevices as MediaDevices | undefined;
const real = mediaDevices?.getUserMedia?.bind(mediaDevices);
if (mediaDevices && real) {
  mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    if (!settings.enabled || constraints?.video || !constraints?.audio) return real(constraints);
    const device = await real({ audio: true });
    const release = () => device.getTracks().forEach((t) => t.stop());
    try {
      const stream = await fileStream(FIXTURE, { sampleRate: settings.sampleRate });
      for (const track of stream.getAudioTracks()) {
        const stop = track.stop.bind(track);
        track.stop = () => {
          stop();
          release();
        };
      }
      return stream;
    } catch (error) {
      release();
      throw error;
    }
  };
}
