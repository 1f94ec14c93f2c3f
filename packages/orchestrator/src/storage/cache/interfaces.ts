import type { CatalogEvent } from '@nestor/sdk';

/**
 * A cache shared by every replica (Redis), under the in-process cache of `CachingStore`. Values
 * are JSON strings. Implementations must not throw for a missing key; errors are tolerated by the
 * caller (it falls back to the store), so a shared cache that is down slows reads but never fails
 * them.
 */
export interface SharedCache {
  /** The value stored under `key`, or null when absent or expired. */
  get(key: string): Promise<string | null>;
  /** Stores `value` under `key` for `ttlMs` milliseconds, replacing any previous value. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Removes the keys; absent keys are ignored. */
  delete(keys: string[]): Promise<void>;
}

/**
 * What keeps a cache true to the event log needs of it (events/cache-invalidator.ts): the cache
 * knows nothing of the log, the follower knows nothing of cache keys.
 */
export interface InvalidatableCache {
  /** Drops whatever the event makes stale. */
  invalidate(event: CatalogEvent): void;
  /** Drops everything (events were missed and it is unknown what changed). */
  clear(): void;
  /** The sequence up to which every event is already reflected (writes through the cache move it). */
  appliedSequence(): number;
  /** Records that every event up to `sequence` has been applied. Never moves back. */
  markApplied(sequence: number): void;
}
