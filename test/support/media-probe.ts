// Browser-side measurements of received media: what a viewer sees and hears, read from the
// decoded stream itself (pixels of the <video>, samples of the audio track).

/** A coarse fingerprint of the current video frame: mean luminance of a 16×9 grid. */
export function frameSignature(video: HTMLVideoElement): number[] {
  const canvas = document.createElement('canvas');
  canvas.width = 16;
  canvas.height = 9;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(video, 0, 0, 16, 9);
  const { data } = ctx.getImageData(0, 0, 16, 9);
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 4) out.push(0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]);
  return out;
}

/** Mean absolute difference between two signatures (0–255). */
export function signatureDistance(a: number[], b: number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** Samples `count` frame signatures, `intervalMs` apart, once the video has decoded a frame. */
export async function sampleFrames(video: HTMLVideoElement, count: number, intervalMs: number): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < count; i++) {
    out.push(frameSignature(video));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return out;
}

/**
 * Measures the RMS level (dBFS) of a received audio track over `ms`, through an AnalyserNode.
 * Returns the loudest 50 ms window and the fraction of windows above -50 dBFS.
 */
export async function measureAudio(track: MediaStreamTrack, ms: number): Promise<{ peakDb: number; activeRatio: number; windows: number[] }> {
  const stream = new MediaStream([track]);
  // Chromium only feeds remote WebRTC audio to Web Audio while a media element plays it too.
  const sink = new Audio();
  sink.muted = true;
  sink.srcObject = stream;
  await sink.play().catch(() => undefined);
  const ctx = new AudioContext();
  await ctx.resume();
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 2048;
  source.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  const windows: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    windows.push(10 * Math.log10(sum / buf.length + 1e-12));
  }
  source.disconnect();
  await ctx.close();
  sink.srcObject = null;
  return {
    peakDb: Math.max(...windows),
    activeRatio: windows.filter((w) => w > -50).length / windows.length,
    windows,
  };
}

/**
 * Records a received audio track for `ms` as 16 kHz mono 16-bit samples (what the offline
 * recogniser takes), base64 of the little-endian bytes so a server command can carry them.
 */
export async function recordAudio(track: MediaStreamTrack, ms: number): Promise<string> {
  const stream = new MediaStream([track]);
  // Chromium only feeds remote WebRTC audio to Web Audio while a media element plays it too.
  const sink = new Audio();
  sink.muted = true;
  sink.srcObject = stream;
  await sink.play().catch(() => undefined);
  const ctx = new AudioContext({ sampleRate: 16_000 });
  const recorder = `registerProcessor('record-audio', class extends AudioWorkletProcessor {
    process([input]) { if (input[0]) this.port.postMessage(input[0].slice()); return true; }
  });`;
  const url = URL.createObjectURL(new Blob([recorder], { type: 'text/javascript' }));
  await ctx.audioWorklet.addModule(url);
  URL.revokeObjectURL(url);
  const node = new AudioWorkletNode(ctx, 'record-audio');
  const blocks: Float32Array[] = [];
  node.port.onmessage = (e: MessageEvent<Float32Array>) => blocks.push(e.data);
  const source = ctx.createMediaStreamSource(stream);
  source.connect(node);
  await ctx.resume();
  await new Promise((r) => setTimeout(r, ms));
  source.disconnect();
  await ctx.close();
  sink.srcObject = null;
  const samples = blocks.flatMap((b) => [...b]);
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  samples.forEach((v, i) => view.setInt16(i * 2, Math.max(-32768, Math.min(32767, Math.round(v * 32768))), true));
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
