export type DeepgramListenModule = typeof import('@deepgram/sdk/listen/v1');

/**
 * Loads Deepgram's live-listen client on first use. Only `listen/v1` is imported: the SDK's root
 * entry pulls every API client into the chunk (31 KB gzip instead of 12).
 */
export function loadDeepgram(): Promise<DeepgramListenModule> {
  return import('@deepgram/sdk/listen/v1');
}
