import type { ValidationResult } from '@nestor/sdk';
import { LRUCache } from 'lru-cache';
import type { RuleOutcome, ValidationCache, VerdictKey } from './interfaces.js';

export interface LruValidationCacheOptions {
  /** Most verdicts kept, and separately most content outcomes kept (least recently used go first). */
  maxEntries: number;
}

/**
 * The in-process validation cache. Verdicts live under their spec fingerprint plus the catalog
 * stamp, so a catalog write or an engine health change makes every older verdict unreachable
 * (it ages out of the LRU); content outcomes live under the digest, which names their whole input.
 */
export class LruValidationCache implements ValidationCache {
  private readonly verdicts: LRUCache<string, ValidationResult>;
  private readonly content: LRUCache<string, RuleOutcome[]>;

  constructor(opts: LruValidationCacheOptions) {
    const max = Math.max(1, Math.floor(opts.maxEntries));
    this.verdicts = new LRUCache({ max });
    this.content = new LRUCache({ max });
  }

  getVerdict(key: VerdictKey): ValidationResult | undefined {
    const found = this.verdicts.get(verdictKey(key));
    return found ? copyOf(found) : undefined;
  }

  setVerdict(key: VerdictKey, result: ValidationResult): void {
    this.verdicts.set(verdictKey(key), copyOf(result));
  }

  getContent(digest: string): RuleOutcome[] | undefined {
    const found = this.content.get(digest);
    return found ? copyOf(found) : undefined;
  }

  setContent(digest: string, outcomes: RuleOutcome[]): void {
    this.content.set(digest, copyOf(outcomes));
  }

  size(): number {
    return this.verdicts.size + this.content.size;
  }
}

const verdictKey = (key: VerdictKey): string => `${key.fingerprint}@${key.stamp}`;

/**
 * A deep copy, so that neither the caller nor the cache can change what the other holds. Verdicts
 * and outcomes are plain data: arrays and plain objects are copied here, which costs a fraction of
 * `structuredClone` on every create; anything else is left to `structuredClone`.
 */
function copyOf<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyOf) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // A key from a request (a label's name) could be `__proto__`: keep it a property, as a clone does.
    if (k === '__proto__')
      Object.defineProperty(out, k, { value: copyOf(v), enumerable: true, writable: true, configurable: true });
    else out[k] = copyOf(v);
  }
  return out as T;
}
