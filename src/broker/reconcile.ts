// What the broker knows of the avatar sessions it created, beyond its session records, and the
// reaper's comparison of that with the service's own list of open sessions: a session the
// service still runs, that the broker created and no record holds any longer (the record was lost
// with a wiped store, dropped after its stops kept failing, or never written because an instance
// died between creating the session and recording it), is stopped.
//
// How the broker knows a session is its own, since an account may be shared with other apps:
// - the store notes every session id the service gives the broker (`own`), before its record is
//   written and for as long as such a session can run; every instance sharing the store sees it;
// - each instance also remembers the sessions it created itself, so a store that lost its data
//   (Redis restarted without persistence) does not make them strangers;
// - with `avatarAccount: 'dedicated'` (the account is the broker's alone) every untracked open
//   session is the broker's: that also finds the sessions of an instance killed with the
//   in-memory store, which took all it knew with it.
// A session the broker may still be creating is not stopped: one that is not known to have been
// recorded must be seen untracked twice, `graceMs` apart (longer than a creation can take).
import type { EventLog } from './log.js';
import type { SessionStore } from './store.js';
import type { AvatarUpstream } from './upstreams/avatar-upstream.js';

export interface ReconcilerOptions {
  store: SessionStore;
  avatar: AvatarUpstream;
  log: EventLog;
  /** `shared` (default): stop only sessions known to be the broker's; `dedicated`: any untracked one. */
  account: 'shared' | 'dedicated';
  /** ms between comparisons; 0: only when asked (`soon`), e.g. after the store lost its data. */
  intervalMs: number;
  /** ms a session may take to be created and recorded. */
  graceMs: number;
  /** ms a session can run at the service: how long the broker remembers creating it. */
  keepMs: number;
  /** Logs why a stop failed (without secrets). */
  failureFields(err: unknown): Record<string, unknown>;
}

export class Reconciler {
  readonly #o: ReconcilerOptions;
  /** Sessions this instance created: until when to remember them, and whether their record was written. */
  readonly #mine = new Map<string, { until: number; recorded: boolean }>();
  /** Open, untracked sessions that may still be in creation: when each was first seen so. */
  #suspects = new Map<string, number>();
  #next: number;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    // The first comparison comes with the first reaper pass: a restarted broker looks at once.
    this.#next = options.intervalMs > 0 ? 0 : Infinity;
  }

  /** The service created `sessionId` for this broker (its id just arrived). */
  async created(sessionId: string, now: number): Promise<void> {
    this.#mine.set(sessionId, { until: now + this.#o.keepMs, recorded: false });
    await this.#o.store.own(sessionId, now, this.#o.keepMs);
  }

  /** Its record was written: from now on a missing record means a lost one. */
  recorded(sessionId: string): void {
    const mine = this.#mine.get(sessionId);
    if (mine) mine.recorded = true;
  }

  /** It was stopped at the service. */
  async stopped(sessionId: string): Promise<void> {
    this.#mine.delete(sessionId);
    this.#suspects.delete(sessionId);
    await this.#o.store.disown(sessionId);
  }

  /** Compares at the next reaper pass, whatever the interval (the store lost its data). */
  soon(): void {
    this.#next = 0;
  }

  /** Compares when it is time; resolves with the number of sessions stopped. */
  async runIfDue(now: number): Promise<number> {
    return now >= this.#next ? this.#run(now) : 0;
  }

  async #run(now: number): Promise<number> {
    const { store, avatar, log, account, intervalMs, graceMs, keepMs } = this.#o;
    this.#next = intervalMs > 0 ? now + intervalMs : Infinity;
    for (const [id, mine] of this.#mine) if (mine.until <= now) this.#mine.delete(id);
    const open = await avatar.listOpen();
    const known = await store.ownership(open, now, now - keepMs);
    const suspects = new Map<string, number>();
    const toStop: string[] = [];
    open.forEach((id, i) => {
      if (known[i] === 'recorded') return;
      const mine = this.#mine.get(id);
      if (mine?.recorded) {
        // Recorded by this instance, and the record is gone: no creation is in flight.
        toStop.push(id);
        return;
      }
      if (known[i] === 'unknown' && !mine && account !== 'dedicated') return; // another app's
      const since = this.#suspects.get(id) ?? now;
      if (since <= now - graceMs) toStop.push(id);
      else suspects.set(id, since);
    });
    this.#suspects = suspects;
    let stopped = 0;
    for (const id of toStop) {
      try {
        const result = await avatar.stop(id, 'untracked');
        await this.stopped(id);
        log('warn', 'session_closed', { sessionId: id, reason: 'untracked', result });
        stopped++;
      } catch (err) {
        log('error', 'session_stop_failed', { sessionId: id, reason: 'untracked', ...this.#o.failureFields(err) });
        suspects.set(id, now);
      }
    }
    // Look again once the suspects' creations must be over (or to retry a failed stop).
    for (const since of suspects.values()) this.#next = Math.min(this.#next, since + graceMs);
    return stopped;
  }
}
