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
