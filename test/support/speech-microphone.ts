// A microphone that says what a WAV says, for a test that needs other speech than the browser was
// launched with (Chromium's fake capture device plays test/.fixtures/mic.wav for every test): a
// question in another language. It replaces getUserMedia's audio in this page with the file,
// looped from its start as the fake device loops its own. Everything after getUserMedia is the
// real path: the element's capture worklet and its resampler to 16 kHz, the Deepgram socket.

/** From now on, getUserMedia({audio}) in this page hands out `url` (a WAV on the test server) as the microphone. */
export function speakIntoMicrophone(url: string): void {
  const context = new AudioContext();
  const speech = fetch(url).then(async (res) => {
    if (!res.ok) throw new Error(`speech-microphone: ${url} answered ${res.status}`);
    return context.decodeAudioData(await res.arrayBuffer());
  });
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints) => {
    if (constraints?.video || !constraints?.audio) return real(constraints);
    const buffer = await speech;
    await context.resume();
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.loop = true;
    const sink = context.createMediaStreamDestination();
    sink.channelCount = 1;
    source.connect(sink);
    source.start();
    for (const track of sink.stream.getAudioTracks()) {
      const stop = track.stop.bind(track);
      track.stop = () => {
        stop();
        source.stop();
        source.disconnect();
      };
    }
    return sink.stream;
  };
}
