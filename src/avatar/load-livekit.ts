export type LiveKitModule = typeof import('./livekit.js');

/** Loads livekit-client on first use, so the script a page loads up front stays small. */
export function loadLiveKit(): Promise<LiveKitModule> {
  return import('./livekit.js');
}
