/** Every state the element can be in. */
export type AvatarState = 'idle' | 'connecting' | 'listening' | 'thinking' | 'speaking' | 'ended' | 'error';

/** What failed, and whether the element can go on without the page doing anything. */
export interface AvatarErrorDetail {
  /** A stable code: `attribute`, `token-endpoint`, `microphone`, `avatar`, `transcriber`, `llm`, `livekit`. */
  type: string;
  message: string;
  recoverable: boolean;
  cause?: unknown;
}

export interface AvatarStateDetail {
  state: AvatarState;
  previous: AvatarState;
}

/** Detail types of every event the element fires, keyed by event name. */
export interface HeygenAvatarEventDetails {
  'heygen-avatar:state': AvatarStateDetail;
  'heygen-avatar:error': AvatarErrorDetail;
}

export type HeygenAvatarEventName = keyof HeygenAvatarEventDetails;

declare global {
  interface GlobalEventHandlersEventMap {
    'heygen-avatar:state': CustomEvent<AvatarStateDetail>;
    'heygen-avatar:error': CustomEvent<AvatarErrorDetail>;
  }
}
