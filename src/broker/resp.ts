// A minimal Redis client over one TCP (or TLS) connection speaking RESP2: pipelined commands,
// replies matched in order, lazy (re)connection. The broker needs a handful of commands (EVALSHA,
// EVAL, ZRANGEBYSCORE, ZCARD, PING…); no Redis package is a dependency of this project.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export type RespValue = string | number | null | RespValue[];

/** An error reply from the server (`-ERR …`). */
export class RespReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespReplyError';
  }
}

export interface RespClientOptions {
  /** ms to wait for a connection; default 5000. */
  connectTimeoutMs?: number;
  /** ms a command may wait for its reply; default 5000. */
  commandTimeoutMs?: number;
}

interface Pending {
  resolve(value: RespValue): void;
  reject(err: Error): void;
}

/** Parsed `redis://[user:password@]host:port/db` (also `rediss://` for TLS). */
export interface RedisAddress {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

export function parseRedisUrl(url: string): RedisAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError('REDIS_URL is not a URL (expected redis://[user:password@]host:port[/db])');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new TypeError(`REDIS_URL must start with redis:// or rediss://, not ${u.protocol}//`);
  }
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new TypeError('REDIS_URL database (the path) must be a number');
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
  };
}

export class RespClient {
  readonly #address: RedisAddress;
  readonly #connectTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  #socket: Socket | undefined;
  #connecting: Promise<Socket> | undefined;
  #pending: Pending[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #closed = false;
  #corked = false;

  constructor(url: string, options: RespClientOptions = {}) {
    this.#address = parseRedisUrl(url);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 5000;
  }

  /** Sends one command; resolves with its reply, rejects with a RespReplyError for an error reply. */
  async send(args: readonly (string | number)[]): Promise<RespValue> {
    if (this.#closed) throw new Error('redis client is closed');
    const socket = this.#socket ?? (await this.#connect());
    return this.#write(socket, args);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const socket = this.#socket ?? (await this.#connecting?.catch(() => undefined));
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      this.#write(socket, ['QUIT']).catch(() => undefined);
      setTimeout(() => socket.destroy(), 500).unref();
    });
  }

  #write(socket: Socket, args: readonly (string | number)[]): Promise<RespValue> {
    if (socket.destroyed) return Promise.reject(new Error('redis connection closed'));
    return new Promise<RespValue>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A reply that never comes leaves the connection out of step: drop it.
        socket.destroy(new Error(`redis command ${String(args[0])} timed out`));
      }, this.#commandTimeoutMs);
      timer.unref();
      this.#pending.push({
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      // Commands issued in the same tick leave in one write (pipelining).
      if (!this.#corked) {
        this.#corked = true;
        socket.cork();
        process.nextTick(() => {
          this.#corked = false;
          socket.uncork();
        });
      }
      socket.write(encodeCommand(args));
    });
  }

  #connect(): Promise<Socket> {
    if (this.#connecting) return this.#connecting;
    const a = this.#address;
    this.#connecting = new Promise<Socket>((resolve, reject) => {
      const socket = a.tls ? tlsConnect({ host: a.host, port: a.port, servername: a.host }) : netConnect({ host: a.host, port: a.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(new Error(`redis ${a.host}:${a.port}: no connection within ${this.#connectTimeoutMs} ms`)), this.#connectTimeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(new Error(`redis ${a.host}:${a.port}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.once(a.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        this.#attach(socket);
        const hello: Promise<RespValue>[] = [];
        if (a.password !== undefined) {
          hello.push(this.#write(socket, a.username ? ['AUTH', a.username, a.password] : ['AUTH', a.password]));
        }
        if (a.db !== undefined) hello.push(this.#write(socket, ['SELECT', a.db]));
        Promise.all(hello).then(
          () => resolve(socket),
          (err: Error) => {
            socket.destroy();
            // AUTH errors name no password; keep the message as the server said it.
            reject(new Error(`redis ${a.host}:${a.port}: ${err.message}`));
          },
        );
      });
    }).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #attach(socket: Socket): void {
    this.#socket = socket;
    this.#buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      const pending = this.#pending;
      this.#pending = [];
      for (const p of pending) p.reject(new Error('redis connection closed'));
    });
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    let offset = 0;
    for (;;) {
      let parsed: Parsed | undefined;
      try {
        parsed = parseReply(this.#buffer, offset);
      } catch (err) {
        this.#socket?.destroy(err as Error);
        return;
      }
      if (!parsed) break;
      offset = parsed.next;
      const p = this.#pending.shift();
      if (!p) continue;
      if (parsed.value instanceof RespReplyError) p.reject(parsed.value);
      else p.resolve(parsed.value);
    }
    this.#buffer = offset >= this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(offset);
  }
}

export function encodeCommand(args: readonly (string | number)[]): Buffer {
  const parts: string[] = [`*${args.length}\r\n`];
  for (const a of args) {
    const s = String(a);
    parts.push(`$${Buffer.byteLength(s)}\r\n${s}\r\n`);
  }
  return Buffer.from(parts.join(''));
}

type Parsed = { value: RespValue | RespReplyError; next: number };

/** Parses one RESP2 reply at `offset`; undefined when the buffer does not hold all of it yet. */
export function parseReply(buf: Buffer, offset: number): Parsed | undefined {
  if (offset >= buf.length) return undefined;
  const end = buf.indexOf('\r\n', offset);
  if (end < 0) return undefined;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (type) {
    case '+':
      return { value: line, next };
    case '-':
      return { value: new RespReplyError(line), next };
    case ':':
      return { value: Number(line), next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), next: next + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (!item) return undefined;
        // An error inside an array (e.g. EXEC) is kept as its message.
        items.push(item.value instanceof RespReplyError ? item.value.message : item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`redis: unexpected reply type ${JSON.stringify(type)}`);
  }
}
