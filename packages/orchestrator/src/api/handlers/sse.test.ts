import { NestorError } from '@nestor/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFilter, startPosition } from './sse.js';

function outcome(run: () => unknown): unknown {
  try {
    return run();
  } catch (err) {
    if (NestorError.is(err)) return `error:${err.code}`;
    throw err;
  }
}

describe('startPosition', () => {
  it('accepts exactly the non-negative safe integers and answers invalid_request for anything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.nat().map(String), fc.integer().map(String)), (text) => {
        const result = outcome(() => startPosition(undefined, text));
        const n = Number(text.trim());
        if (/^\d{1,16}$/.test(text.trim()) && Number.isSafeInteger(n)) expect(result).toBe(n);
        else expect(result).toBe('error:invalid_request');
      }),
    );
  });

  it('lets Last-Event-ID win over since, ignores an empty header and starts at the head with neither', () => {
    expect(startPosition('12', '3')).toBe(12);
    expect(startPosition(['1', '7'], undefined)).toBe(7);
    expect(startPosition('  ', '3')).toBe(3);
    expect(startPosition(undefined, undefined)).toBeNull();
    expect(outcome(() => startPosition('abc', '3'))).toBe('error:invalid_request');
  });
});

describe('parseFilter', () => {
  it('splits comma lists, trims, and rejects unknown types and empty lists', () => {
    const f = parseFilter({ type: 'component.created, source.synced', name: 'a,b', provider: 'aws', category: 'db' });
    expect([...(f.types ?? [])]).toEqual(['component.created', 'source.synced']);
    expect([...(f.names ?? [])]).toEqual(['a', 'b']);
    expect(parseFilter({})).toEqual({});
    expect(outcome(() => parseFilter({ type: 'component.created,nope' }))).toBe('error:invalid_request');
    expect(outcome(() => parseFilter({ name: ' , ' }))).toBe('error:invalid_request');
    expect(outcome(() => parseFilter({ name: Array.from({ length: 101 }, (_, i) => `n${i}`).join(',') }))).toBe(
      'error:invalid_request',
    );
  });

  it('never throws anything but invalid_request, whatever the query', () => {
    fc.assert(
      fc.property(
        fc.record({ type: fc.string(), name: fc.string(), provider: fc.string() }, { requiredKeys: [] }),
        (q) => {
          const result = outcome(() => parseFilter(q));
          expect(result === 'error:invalid_request' || typeof result === 'object').toBe(true);
        },
      ),
    );
  });
});
