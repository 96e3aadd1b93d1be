import { AccessToken } from 'livekit-server-sdk';

export interface LiveKitCredentials {
  apiKey: string;
  apiSecret: string;
}

/** Mints a LiveKit access token for one participant of one room. */
export async function mintLiveKitToken(
  creds: LiveKitCredentials,
  room: string,
  identity: string,
  options: { ttlSeconds?: number; canPublish?: boolean; name?: string } = {},
): Promise<string> {
  const at = new AccessToken(creds.apiKey, creds.apiSecret, {
    identity,
    ttl: options.ttlSeconds ?? 3600,
    ...(options.name ? { name: options.name } : {}),
  });
  at.addGrant({
    roomJoin: true,
    room,
    canPublish: options.canPublish ?? true,
    canSubscribe: true,
    canPublishData: true,
  });
  return at.toJwt();
}
