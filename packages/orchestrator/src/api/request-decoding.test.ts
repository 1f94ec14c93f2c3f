import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJsonBody } from './request-decoding.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What decoding must agree with: every value checked, whatever the text looks like. */
function checkedParse(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => {
    if (key === '__proto__' || key === 'constructor') throw new SyntaxError('forbidden key');
    if (LONE_SURROGATE.test(key)) throw new SyntaxError('lone surrogate in a key');
    if (typeof value === 'number' && !Number.isFinite(value)) throw new SyntaxError('number out of range');
    if (typeof value === 'string' && LONE_SURROGATE.test(value)) throw new SyntaxError('lone surrogate');
    return value;
  });
}

function outcome(run: () => unknown): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: run() };
  } catch {
    return { ok: false };
  }
}

// Pieces that make refused values, spliced into otherwise valid documents.
const hostile = fc.constantFrom(
  '"\\ud800"',
  '"a\\udfff"',
  '"\\u005f_proto__"',
  '1e999',
  '-1E400',
  `1${'0'.repeat(320)}`,
  '"ok \\u00e9"',
  '2.5e3',
  '"constructor"',
);

describe('decodeJsonBody', () => {
  it('accepts and refuses exactly what a fully checked parse does', () => {
    const documents = fc.oneof(
      fc.json({ maxDepth: 4 }),
      fc
        .tuple(fc.json({ maxDepth: 2 }), hostile, fc.constantFrom('key', '__proto__', 'constructor', '\\ud83d'))
        .map(([doc, value, key]) => `{"doc":${doc},"${key}":${value},"list":[${value}]}`),
    );
    fc.assert(
      fc.property(documents, (text) => {
        const expected = outcome(() => checkedParse(text));
        const actual = outcome(() => decodeJsonBody(Buffer.from(text, 'utf8'), JSON_HEADERS));
        expect(actual.ok).toBe(expected.ok);
        if (actual.ok && expected.ok) expect(actual.value).toEqual(expected.value);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses each kind of unstorable value with a message naming it', () => {
    const cases: [string, RegExp][] = [
      ['{"name":"\\ud800"}', /lone UTF-16 surrogate/],
      ['{"__proto__":{"admin":true}}', /forbidden key/],
      ['{"\\u0063onstructor":1}', /forbidden key/],
      ['{"size":1e999}', /number out of range/],
      [`{"size":${'9'.repeat(400)}}`, /number out of range/],
    ];
    for (const [text, message] of cases) {
      expect(() => decodeJsonBody(Buffer.from(text, 'utf8'), JSON_HEADERS)).toThrow(message);
    }
  });

  it('parses ordinary documents without the value checks and keeps them intact', () => {
    const text = '{"name":"orders-db","version":"1.0.0","labels":{"team":"data"},"outputs":[{"name":"endpoint"}]}';
    expect(decodeJsonBody(Buffer.from(text, 'utf8'), JSON_HEADERS)).toEqual(JSON.parse(text));
  });
});
