// Structured logs of the session broker: one JSON object per event, one line each. Nothing that
// could be a credential goes in: callers pass named fields, and upstream text passes `redact`.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One log event: `event` names what happened (`session_created`, `upstream_failed`, …). */
export interface LogEntry {
  level: LogLevel;
  event: string;
  [field: string]: unknown;
}

/** Receives every log event; the default writes `{"time":…,"level":…,"event":…}` lines to stdout/stderr. */
export type BrokerLogger = (entry: LogEntry) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger writing JSON lines: warnings and errors to stderr, the rest to stdout. */
export function jsonLineLogger(minLevel: LogLevel = 'info'): BrokerLogger {
  return (entry) => {
    if (ORDER[entry.level] < ORDER[minLevel]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), ...entry });
    if (ORDER[entry.level] >= ORDER.warn) process.stderr.write(`${line}\n`);
    else process.stdout.write(`${line}\n`);
  };
}

export function isLogLevel(value: string): value is LogLevel {
  return value in ORDER;
}

/**
 * Returns a function that removes every given secret (and anything shaped like a bearer token or
 * an API key header) from text, and then cuts it to `max` characters: in that order, so a secret
 * that straddles the cut is not kept in part. For upstream error messages, which go to the server
 * log only. Text beyond the first 64 KiB is not even looked at (it is far past the cut).
 */
export function makeRedactor(secrets: readonly string[], max = 300): (text: string) => string {
  const list = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text.length > 65_536 ? text.slice(0, 65_536) : text;
    for (const s of list) out = out.split(s).join('[redacted]');
    out = out.replace(/\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]');
    out = out.replace(/\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, '[redacted]');
    return out.length > max ? `${out.slice(0, max)}…` : out;
  };
}

/** Logs one event: `log('info', 'session_created', {sessionId, …})`. */
export type EventLog = (level: LogLevel, event: string, fields?: Record<string, unknown>) => void;

/** An EventLog writing to `logger`; a failing logger must not fail requests. */
export function eventLog(logger: BrokerLogger): EventLog {
  return (level, event, fields = {}) => {
    try {
      logger({ level, event, ...fields });
    } catch {
      // swallowed: see above
    }
  };
}
