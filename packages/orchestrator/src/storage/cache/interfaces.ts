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

/**
 * The catalog revision this process vouches for (`X-Catalog-Revision`, decision 4) and what moves
 * when the data behind reads may change. The store cache implements it when it is on; without it,
 * the log's head is the revision (`LogHeadRevision`).
 */
export interface CatalogRevision {
  /**
   * Every event of the log up to this sequence is reflected in what reads through this process
   * show (perhaps newer data, never older). A number when held in memory, so a read costs nothing.
   */
  current(): number | Promise<number>;
  /**
   * Moves whenever the data behind reads may have changed without `current` moving yet (an
   * invalidation). Anything built from reads (serialized answers) keys on it with the revision.
   */
  generation(): number;
}
