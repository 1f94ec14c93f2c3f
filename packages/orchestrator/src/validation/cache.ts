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
    return found ? structuredClone(found) : undefined;
  }

  setVerdict(key: VerdictKey, result: ValidationResult): void {
    this.verdicts.set(verdictKey(key), structuredClone(result));
  }

  getContent(digest: string): RuleOutcome[] | undefined {
    const found = this.content.get(digest);
    return found ? structuredClone(found) : undefined;
  }

  setContent(digest: string, outcomes: RuleOutcome[]): void {
    this.content.set(digest, structuredClone(outcomes));
  }

  size(): number {
    return this.verdicts.size + this.content.size;
  }
}

const verdictKey = (key: VerdictKey): string => `${key.fingerprint}@${key.stamp}`;
