export declare const LIVEKIT_VERSION: string;
export declare function livekitBinaryPath(): string;
export declare function installLiveKit(options?: { quiet?: boolean }): string;
export declare function freeTcpPort(): Promise<number>;
export interface LiveKitServer {
  /** ws://127.0.0.1:PORT */
  url: string;
  httpUrl: string;
  apiKey: string;
  apiSecret: string;
  logFile: string;
  pid: number | undefined;
  stop(): Promise<void>;
}
export declare function startLiveKit(options?: { port?: number; logFile?: string; timeoutMs?: number }): Promise<LiveKitServer>;
