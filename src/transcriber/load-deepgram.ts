export type DeepgramModule = typeof import('@deepgram/sdk');

/** Loads the Deepgram client on first use, so the script a page loads up front stays small. */
export function loadDeepgram(): Promise<DeepgramModule> {
  return import('@deepgram/sdk');
}
