// A WAV on the test server played as a microphone's MediaStream: decoded with Web Audio, looped from
// its start through a MediaStreamAudioDestinationNode, one AudioContext per rate. Stopping the track
// stops its playback. For pages whose browser cannot play a file as its fake capture device.
//
// The file plays in an AudioContext at the device's rate unless `sampleRate` is given. A stream that
// crosses to an AudioContext of another rate crosses clocks too: Firefox then corrects the drift
// between the two (measured here: ~140 ppm, a few samples a second), which a sample-exact test
// cannot tell from dropouts; such a test asks for its AudioContext's rate.

const players = new Map<string, { context: AudioContext; speech: Promise<AudioBuffer> }>();

/** A new MediaStream playing `url` (mono, looped). */
export async function fileStream(url: string, { sampleRate }: { sampleRate?: number } = {}): Promise<MediaStream> {
  const key = `${sampleRate ?? 'device'} ${url}`;
  let player = players.get(key);
  if (!player) {
    const context = new AudioContext(sampleRate ? { sampleRate } : {});
    const speech = fetch(url)
      .then((res) => {
        if (!res.ok) throw new Error(`file-microphone: ${url} answered ${res.status}`);
        return res.arrayBuffer();
      })
      .then((bytes) => context.decodeAudioData(bytes));
    player = { context, speech };
    players.set(key, player);
  }
  const { context } = player;
  const buffer = await player.speech;
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
}
