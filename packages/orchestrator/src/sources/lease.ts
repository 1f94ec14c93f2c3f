import { type Logger, silentLogger } from '../observability/logging/logger.js';
import type { LeaseStore } from '../storage/interfaces.js';

export interface LeaderLeaseOptions {
  store: LeaseStore;
  /** This replica, unique among replicas (e.g. `${hostname}:${pid}:${random}`). */
  holder: string;
  /** Lease lifetime; a replica that dies loses it after this long (default 30 s). */
  ttlMs?: number;
  /** Renewal period while the work runs (default a third of the TTL). */
  renewEveryMs?: number;
  /** Prepended to every lease name (default `sync:`). */
  prefix?: string;
  logger?: Logger;
}

/** What `runIfLeader` did: ran the work (and its value), or skipped it because another replica leads. */
export type LeaderRun<T> = { ran: true; value: T } | { ran: false };

/**
 * Only one replica at a time does a named piece of work (a git source's sync). The lease is a
 * conditional write with expiry in the store: it is taken before the work, renewed while it runs,
 * and released after it; a replica that dies stops renewing, so another takes over within one TTL.
 */
export class LeaderLease {
  private readonly store: LeaseStore;
  private readonly holder: string;
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly prefix: string;
  private readonly logger: Logger;

  constructor(opts: LeaderLeaseOptions) {
    this.store = opts.store;
    this.holder = opts.holder;
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.renewEveryMs = opts.renewEveryMs ?? Math.max(10, Math.floor(this.ttlMs / 3));
    this.prefix = opts.prefix ?? 'sync:';
    this.logger = opts.logger ?? silentLogger;
  }

  /**
   * Runs `fn` when this replica holds (or takes) the lease `name`, renewing it until `fn` settles,
   * then releases it. `signal` aborts when a renewal finds the lease lost (another replica took
   * it after this one stalled), so long work can stop early. A store failure while taking the
   * lease counts as "not leader"; errors thrown by `fn` propagate after the release.
   */
  async runIfLeader<T>(name: string, fn: (signal: AbortSignal) => Promise<T>): Promise<LeaderRun<T>> {
    const lease = this.prefix + name;
    let acquired: boolean;
    try {
      acquired = await this.store.acquireLease(lease, this.holder, this.ttlMs);
    } catch (err) {
      this.logger.warn({ err, lease }, 'could not take the lease; skipping the work on this replica');
      return { ran: false };
    }
    if (!acquired) return { ran: false };
    const controller = new AbortController();
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = this.store
        .acquireLease(lease, this.holder, this.ttlMs)
        .then((kept) => {
          if (!kept && !controller.signal.aborted) {
            this.logger.warn({ lease }, 'lease lost to another replica while working');
            controller.abort(new Error(`lease ${lease} lost`));
          }
        })
        .catch((err: unknown) => this.logger.warn({ err, lease }, 'lease renewal failed; retrying'));
    }, this.renewEveryMs);
    try {
      return { ran: true, value: await fn(controller.signal) };
    } finally {
      clearInterval(timer);
      await renewing;
      if (!controller.signal.aborted) {
        await this.store
          .releaseLease(lease, this.holder)
          .catch((err: unknown) => this.logger.warn({ err, lease }, 'could not release the lease; it expires'));
      }
    }
  }
}
