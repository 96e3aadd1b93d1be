// The script bundle's stand-in for `@deepgram/sdk/listen/v1` (rollup.config.mjs aliases it): the
// SDK's own V1Socket and ReconnectingWebSocket, without V1Client, whose `media` getter drags the
// SDK's whole HTTP stack into the chunk (12.6 KB gzip instead of 4). Same `connect()` contract
// for what the transcriber uses. The npm build keeps the real module.
import { V1Socket } from '@deepgram/sdk/dist/esm/api/resources/listen/resources/v1/client/Socket.mjs';
import { ReconnectingWebSocket } from '@deepgram/sdk/dist/esm/core/websocket/ws.mjs';

export { V1Socket };

export class V1Client {
  constructor(options = {}) {
    this._baseUrl = options.baseUrl;
  }

  async connect(args = {}) {
    const { protocols = [], reconnectAttempts, ...query } = args;
    const queryParameters = {};
    for (const [key, value] of Object.entries(query)) {
      if (value != null) queryParameters[key] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    const socket = new ReconnectingWebSocket({
      url: `${String(this._baseUrl).replace(/\/$/, '')}/v1/listen`,
      protocols,
      queryParameters,
      options: { maxRetries: reconnectAttempts ?? 30 },
    });
    return new V1Socket({ socket });
  }
}
