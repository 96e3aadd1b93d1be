// `heygen-avatar-broker`: reads the configuration from environment variables (docs/broker.md),
// starts the broker on node:http, logs one startup line (no secrets), and on SIGINT/SIGTERM stops
// accepting requests and closes its avatar sessions before exiting.
import { pathToFileURL } from 'node:url';
import { BrokerConfigError, configFromEnv, resolveConfig } from './config.js';
import { startBrokerServer } from './node-server.js';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  let settings: ReturnType<typeof configFromEnv>;
  try {
    settings = configFromEnv(env);
  } catch (err) {
    if (err instanceof BrokerConfigError) {
      process.stderr.write(`${err.message}\n\nSee docs/broker.md for every variable.\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const { config, server: options } = settings;
  const server = await startBrokerServer(config, options);
  // The startup line shows the configuration with its defaults filled in (which avatar service, its avatars).
  const resolved = resolveConfig(config);
  process.stdout.write(
    `${JSON.stringify({
      time: new Date().toISOString(),
      level: 'info',
      event: 'broker_started',
      url: server.url,
      sessionEndpoint: `${server.url}${resolved.basePath}/session`,
      avatarProvider: resolved.avatarProvider,
      avatarApiBase: (resolved.liveavatar ?? resolved.heygen)?.apiBase,
      ...(resolved.liveavatar?.sandbox ? { sandbox: true } : {}),
      deepgramApiBase: resolved.deepgram.apiBase,
      llm: config.llm ? `${config.llm.provider}${config.llm.model ? `/${config.llm.model}` : ''}` : 'none',
      store: resolved.redisUrl ? 'redis' : 'memory',
      allowedOrigins: config.allowedOrigins,
      avatarIds: resolved.avatarIds,
      maxSessions: resolved.maxSessions,
      maxSessionsPerClient: resolved.maxSessionsPerClient,
    })}\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'broker_stopping', signal })}\n`);
    server.close().then(
      () => {
        process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', event: 'broker_stopped' })}\n`);
        process.exit(0);
      },
      (err: Error) => {
        process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'broker_stop_failed', message: err.message })}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: Error) => {
    process.stderr.write(`heygen-avatar-broker: ${err?.message ?? err}\n`);
    process.exit(1);
  });
}
