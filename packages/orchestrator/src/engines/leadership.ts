import { type Logger, silentLogger } from '../observability/logging/logger.js';
import type { LeaseStore } from '../storage/interfaces.js';
import type { Leadership } from './interfaces.js';

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
 * Leadership through a store lease. The answer is cached for a third of the TTL, so a leader
 * renews well before expiry and a crashed leader is replaced within one TTL.
 */
export class LeaseLeadership implements Leadership {
  private readonly opts: LeaseLeadershipOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private leader = false;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<boolean> | null = null;

  constructor(opts: LeaseLeadershipOptions) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? (() => performance.now());
  }

  isLeader(): Promise<boolean> {
    if (this.now() - this.checkedAt < this.opts.ttlMs / 3) return Promise.resolve(this.leader);
    if (this.pending) return this.pending;
    this.pending = this.opts.store
      .acquireLease(this.opts.name, this.opts.holder, this.opts.ttlMs)
      .catch((err: unknown) => {
        this.logger.warn({ err, lease: this.opts.name }, 'could not take the lease; acting as follower');
        return false;
      })
      .then((value) => {
        if (value !== this.leader) this.logger.info({ lease: this.opts.name, leader: value }, 'leadership changed');
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
    await this.opts.store.releaseLease(this.opts.name, this.opts.holder).catch((err: unknown) => {
      this.logger.warn({ err, lease: this.opts.name }, 'could not release the lease');
    });
  }
}
