// Every track getUserMedia hands out in this page, recorded at the browser's own interface, so a
// test can check that none is left live after a session ends.

const handedOut: MediaStreamTrack[] = [];
let installed = false;

/** Starts recording (once per page); returns the live list of tracks handed out so far. */
export function recordMicrophoneTracks(): readonly MediaStreamTrack[] {
  if (!installed) {
    installed = true;
    const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await real(constraints);
      handedOut.push(...stream.getTracks());
      return stream;
    };
  }
  return handedOut;
}
