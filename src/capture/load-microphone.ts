export type MicrophoneModule = typeof import('./microphone.js');

/** Loads the microphone capture on first use, so the script a page loads up front stays small. */
export function loadMicrophone(): Promise<MicrophoneModule> {
  return import('./microphone.js');
}
