import type { Clock } from '../../observability/clock.js';
import { systemClock } from '../../observability/clock.js';
import type { SharedCache } from './interfaces.js';

/**
 * A SharedCache in process memory: what tests plug in where production
 * uses Redis. Several CachingStores given the same instance behave like replicas sharing Redis.
 */
export class MemorySharedCache implements SharedCache {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private readonly clock: Clock;

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? systemClock;
  }

  async get(key: string): Promise<string | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.clock.now().getTime()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.clock.now().getTime() + ttlMs });
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
  }

  /** Number of live and expired entries held (for tests). */
  get size(): number {
    return this.entries.size;
  }
}
