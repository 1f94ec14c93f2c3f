import { type Logger, silentLogger } from '../observability/logging/logger.js';
import type { LeaseStore } from '../storage/interfaces.js';

/**
 * One named lease in the store, taken for one holder: a conditional write with expiry. Source
 * syncing holds a lease for the length of one piece of work (`LeaderLease`); engine probing holds
 * one for as long as the process leads (`LeaseLeadership`). Both are this, so expiry, renewal and
 * what a store failure means are decided once.
 */
export class StoreLease {
  private readonly store: LeaseStore;
  readonly name: string;
  private readonly holder: string;
  readonly ttlMs: number;
  private readonly logger: Logger;

  constructor(opts: { store: LeaseStore; name: string; holder: string; ttlMs: number; logger?: Logger }) {
    this.store = opts.store;
    this.name = opts.name;
    this.holder = opts.holder;
    this.ttlMs = opts.ttlMs;
    this.logger = opts.logger ?? silentLogger;
  }

  /**
   * Takes the lease, or renews it when this holder has it; false when another holder does. A store
   * failure also answers false: acting as a follower for one period is safe, two leaders are not.
   */
  async acquire(): Promise<boolean> {
    try {
      return await this.store.acquireLease(this.name, this.holder, this.ttlMs);
    } catch (err) {
      this.logger.warn({ err, lease: this.name }, 'could not take the lease; acting as follower');
      return false;
    }
  }

  /** Gives the lease up now so another holder need not wait for expiry; failures only log. */
  async release(): Promise<void> {
    await this.store.releaseLease(this.name, this.holder).catch((err: unknown) => {
      this.logger.warn({ err, lease: this.name }, 'could not release the lease; it expires');
    });
  }
}

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
 * Only one replica at a time does a named piece of work (a source's sync): the lease is taken
 * before the work, renewed while it runs, and released after it; a replica that dies stops
 * renewing, so another takes over within one TTL.
 */
export class LeaderLease {
  private readonly opts: LeaderLeaseOptions;
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly logger: Logger;

  constructor(opts: LeaderLeaseOptions) {
    this.opts = opts;
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.renewEveryMs = opts.renewEveryMs ?? Math.max(10, Math.floor(this.ttlMs / 3));
    this.logger = opts.logger ?? silentLogger;
  }

  /**
   * Runs `fn` when this replica holds (or takes) the lease `name`, renewing it until `fn` settles,
   * then releases it. `signal` aborts when a renewal finds the lease lost (another replica took
   * it after this one stalled), so long work can stop early. A store failure while taking the
   * lease counts as "not leader"; errors thrown by `fn` propagate after the release.
   */
  async runIfLeader<T>(name: string, fn: (signal: AbortSignal) => Promise<T>): Promise<LeaderRun<T>> {
    const lease = new StoreLease({
      store: this.opts.store,
      name: (this.opts.prefix ?? 'sync:') + name,
      holder: this.opts.holder,
      ttlMs: this.ttlMs,
      logger: this.logger,
    });
    if (!(await lease.acquire())) return { ran: false };
    const controller = new AbortController();
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      // A failed renewal is retried on the next tick; only a lease held by another holder aborts.
      renewing = this.opts.store
        .acquireLease(lease.name, this.opts.holder, this.ttlMs)
        .then((kept) => {
          if (!kept && !controller.signal.aborted) {
            this.logger.warn({ lease: lease.name }, 'lease lost to another replica while working');
            controller.abort(new Error(`lease ${lease.name} lost`));
          }
        })
        .catch((err: unknown) => this.logger.warn({ err, lease: lease.name }, 'lease renewal failed; retrying'));
    }, this.renewEveryMs);
    try {
      return { ran: true, value: await fn(controller.signal) };
    } finally {
      clearInterval(timer);
      await renewing;
      if (!controller.signal.aborted) await lease.release();
    }
  }
}

export interface LeaseLeadershipOptions {
  store: LeaseStore;
  /** Lease name; every replica doing the same work uses the same one. */
  name: string;
  /** This process, unique among replicas. */
  holder: string;
  ttlMs: number;
  logger?: Logger;
  /** Monotonic milliseconds; tests move it. */
  now?: () => number;
}

/**
 * Standing leadership through a store lease (engine probes and discovery). The answer is cached
 * for a third of the TTL, so a leader renews well before expiry and a crashed leader is replaced
 * within one TTL.
 */
export class LeaseLeadership {
  private readonly lease: StoreLease;
  private readonly logger: Logger;
  private readonly now: () => number;
  private leader = false;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<boolean> | null = null;

  constructor(opts: LeaseLeadershipOptions) {
    this.lease = new StoreLease(opts);
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? (() => performance.now());
  }

  isLeader(): Promise<boolean> {
    if (this.now() - this.checkedAt < this.lease.ttlMs / 3) return Promise.resolve(this.leader);
    if (this.pending) return this.pending;
    this.pending = this.lease.acquire().then((value) => {
      if (value !== this.leader) this.logger.info({ lease: this.lease.name, leader: value }, 'leadership changed');
      this.leader = value;
      this.checkedAt = this.now();
      this.pending = null;
      return value;
    });
    return this.pending;
  }

  async release(): Promise<void> {
    if (!this.leader) return;
    this.leader = false;
    this.checkedAt = Number.NEGATIVE_INFINITY;
    await this.lease.release();
  }
}
