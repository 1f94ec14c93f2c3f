import type { ValidationResult } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { LruValidationCache } from './cache.js';
import type { RuleOutcome } from './interfaces.js';

const verdict = (): ValidationResult => {
  const details: Record<string, unknown> = { nested: { list: [1, 'two', null, { three: true }] }, gone: undefined };
  Object.defineProperty(details, '__proto__', { value: { label: 'x' }, enumerable: true, writable: true });
  return {
    valid: false,
    name: 'a',
    version: '1.0.0',
    digest: 'sha256:x',
    errors: [{ rule: 'metadata', code: 'invalid_name', field: 'name', message: 'm', details }],
    warnings: [],
    required_bump: 'none',
    changes: [],
    predecessor: null,
    successor: null,
  };
};

describe('LruValidationCache', () => {
  it('hands out deep copies equal to what was put, never the object the cache holds', () => {
    const cache = new LruValidationCache({ maxEntries: 10 });
    const key = { fingerprint: 'f', stamp: 's' };
    const put = verdict();
    cache.setVerdict(key, put);
    const nested = put.errors[0]?.details?.['nested'] as { list: unknown[] } | undefined;
    nested?.list.push('changed by the caller');
    expect(nested?.list).toHaveLength(5);
    const first = cache.getVerdict(key);
    expect(first).toEqual(structuredClone(verdict()));
    expect(Object.getPrototypeOf(first?.errors[0]?.details)).toBe(Object.prototype);
    expect(Object.keys(first?.errors[0]?.details ?? {})).toEqual(['nested', 'gone', '__proto__']);
    first?.errors.pop();
    expect(cache.getVerdict(key)?.errors).toHaveLength(1);

    const outcomes: RuleOutcome[] = [{ errors: [], warnings: [], changes: [] }];
    cache.setContent('sha256:x', outcomes);
    outcomes[0]?.warnings.push({ rule: 'metadata', code: 'c', field: '', message: 'late' });
    expect(cache.getContent('sha256:x')).toEqual([{ errors: [], warnings: [], changes: [] }]);
  });
});
