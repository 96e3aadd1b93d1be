// A microphone that says what a WAV says, for a test that needs other speech than the browser was
// launched with (Chromium's fake capture device plays test/.fixtures/mic.wav for every test): a
// question in another language. It replaces getUserMedia's audio in this page with the file,
// looped from its start as the fake device loops its own (see file-microphone.ts). Everything after
// getUserMedia is the real path: the element's capture worklet and its resampler to 16 kHz, the
// Deepgram socket.
import { fileStream } from './file-microphone.js';

/** From now on, getUserMedia({audio}) in this page hands out `url` (a WAV on the test server) as the microphone. */
export function speakIntoMicrophone(url: string): void {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    if (constraints?.video || !constraints?.audio) return real(constraints);
    return fileStream(url);
  };
}
