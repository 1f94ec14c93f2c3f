import type { LeaderLease } from '../leases/lease.js';
import type { Clock } from '../observability/clock.js';
import { type Logger, silentLogger } from '../observability/logging/logger.js';
import type { ComponentVersioning } from '../storage/interfaces.js';

/** What the purger needs of the catalog: the one write path that announces the event. */
interface PurgeTarget {
  purgeComponent(name: string, version: string): Promise<unknown>;
}

export interface VersionPurgerOptions {
  store: Pick<ComponentVersioning, 'listDeletedVersions'>;
  catalog: PurgeTarget;
  /** Shared with the other replicas: only the holder of `lifecycle:purge` purges. */
  lease: LeaderLease;
  /** `lifecycle.purge_after`: how long a deleted version can still be restored. */
  purgeAfterMs: number;
  /** How often to look for versions to purge. */
  intervalMs: number;
  clock: Clock;
  logger?: Logger;
}

const BATCH = 100;

/**
 * Purges deleted versions once `lifecycle.purge_after` has passed (DESIGN.md 10.3): each becomes a
 * tombstone (its number stays taken) and `component.purged` is appended. One replica at a time does
 * it, through the store lease every replica shares.
 */
export class VersionPurger {
  private readonly opts: VersionPurgerOptions;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(opts: VersionPurgerOptions) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.runOnce().catch((err: unknown) => this.logger.warn({ err }, 'purge of deleted versions failed'));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  /** One pass: purges every version deleted before now minus `purge_after`; returns how many (0 when not leader). */
  runOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const run = await this.opts.lease.runIfLeader('purge', async (signal) => {
      const cutoff = new Date(this.opts.clock.now().getTime() - this.opts.purgeAfterMs).toISOString();
      let purged = 0;
      for (;;) {
        const batch = await this.opts.store.listDeletedVersions(cutoff, BATCH);
        for (const ref of batch) {
          if (signal.aborted) return purged;
          await this.opts.catalog.purgeComponent(ref.name, ref.version);
          purged++;
        }
        if (batch.length < BATCH) return purged;
      }
    });
    const purged = run.ran ? run.value : 0;
    if (purged > 0) this.logger.info({ purged }, 'purged deleted component versions');
    return purged;
  }
}
