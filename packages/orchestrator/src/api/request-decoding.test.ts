import { MaturitySchema } from '@nestor/sdk';
import { Type } from '@sinclair/typebox';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileParamsConversion,
  convertParams,
  decodeJsonBody,
  jsonShapeProblem,
  MAX_JSON_OBJECT_KEYS,
  MAX_JSON_STRING,
  MAX_JSON_VALUES,
} from './request-decoding.js';

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

describe('jsonShapeProblem', () => {
  const keysObject = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;

  it('bounds nesting, keys of one object, values and string length', () => {
    expect(jsonShapeProblem(`${'['.repeat(65)}${']'.repeat(65)}`)).toContain('deeper than 64');
    expect(jsonShapeProblem(`${'{"a":'.repeat(64)}1${'}'.repeat(64)}`)).toBeNull();
    expect(jsonShapeProblem(keysObject(MAX_JSON_OBJECT_KEYS))).toBeNull();
    expect(jsonShapeProblem(keysObject(MAX_JSON_OBJECT_KEYS + 1))).toContain('more than 1000 keys');
    // Many small objects stay under the per-object bound but not under the total.
    const many = `[${Array.from({ length: 60_000 }, () => '{"a":1}').join(',')}]`;
    expect(jsonShapeProblem(many)).toContain(`more than ${MAX_JSON_VALUES} values`);
    expect(jsonShapeProblem(`["${'x'.repeat(MAX_JSON_STRING)}"]`)).toBeNull();
    expect(jsonShapeProblem(`["${'x'.repeat(MAX_JSON_STRING + 1)}"]`)).toContain('longer than 65536');
    expect(jsonShapeProblem(`{"${'k'.repeat(MAX_JSON_STRING + 1)}":1}`)).toContain('longer than 65536');
    // Escapes count as the characters they decode to.
    expect(jsonShapeProblem(`["${'\\u00e9'.repeat(MAX_JSON_STRING)}"]`)).toBeNull();
  });

  it('is not fooled by brackets, colons and commas inside strings, or by escaped quotes', () => {
    expect(jsonShapeProblem(JSON.stringify({ a: '['.repeat(200), b: ':,'.repeat(5000) }))).toBeNull();
    expect(jsonShapeProblem(`["\\"${'['.repeat(100)}"]`)).toBeNull();
    expect(jsonShapeProblem(`["\\\\"${'['.repeat(100)}`)).toContain('deeper than 64');
  });

  it('refuses 100 000 keys and deep bodies with invalid_request before parsing them', () => {
    const headers = { 'content-type': 'application/json' };
    const huge = Buffer.from(keysObject(100_000));
    expect(() => decodeJsonBody(huge, headers)).toThrow(
      expect.objectContaining({ code: 'invalid_request', message: expect.stringContaining('more than 1000 keys') }),
    );
    expect(() => decodeJsonBody(Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), headers)).toThrow(
      'request body nests deeper than 64 levels',
    );
  });

  it('measures the nesting of any JSON value as its parsed depth, strings included', () => {
    const depth = (v: unknown): number =>
      v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 0, max: 80 }), (value, wrap) => {
        const text = `${'['.repeat(wrap)}${JSON.stringify(value)}${']'.repeat(wrap)}`;
        expect(jsonShapeProblem(text) === null).toBe(wrap + depth(value) <= 64);
      }),
      { numRuns: 300 },
    );
  });
});

/** A query string as Fastify's parser hands it over: an object without Object.prototype. */
function parsedQuery(entries: Record<string, unknown>): Record<string, unknown> {
  const out = Object.create(Object.create(null) as object) as Record<string, unknown>;
  for (const [key, value] of Object.entries(entries)) out[key] = Array.isArray(value) ? [...value] : value;
  return out;
}

describe('compileParamsConversion', () => {
  // Every shape the routes' query strings and path parameters use (handlers/*.ts).
  const shapes = {
    filters: Type.Object({
      q: Type.String({ minLength: 1, maxLength: 500 }),
      provider: Type.Optional(Type.String({ maxLength: 100 })),
      maturity: Type.Optional(MaturitySchema),
      label: Type.Optional(
        Type.Union([Type.String({ maxLength: 5 }), Type.Array(Type.String({ maxLength: 5 }), { maxItems: 2 })]),
      ),
      support_level: Type.Optional(Type.Union([Type.Literal('community'), Type.Literal('supported')])),
      include_prerelease: Type.Optional(Type.Boolean({ default: false })),
      orphaned: Type.Optional(Type.Boolean()),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
      after: Type.Optional(Type.Integer({ minimum: 0 })),
      sort: Type.Optional(Type.Union([Type.Literal('relevance'), Type.Literal('name')])),
    }),
    required: Type.Object({ from: Type.String(), to: Type.String(), n: Type.Integer() }),
    empty: Type.Object({}),
  };
  const keys = [...new Set(Object.values(shapes).flatMap((s) => Object.keys(s.properties)))];
  const text = fc.oneof(
    fc.constantFrom('', 'true', 'TRUE', 'True', 'false', 'FALSE', '1', '0', '-0', '+5', '-3', '12', '007'),
    fc.constantFrom('1e3', '1.5', '0x10', ' 12', '12 ', 'NaN', 'Infinity', '9999999999999999', 'null', 'beta'),
    fc.constantFrom('stable', 'community', 'name', 'relevance', 'toolong', 'ab'),
    fc.string({ maxLength: 8 }),
  );
  const value = fc.oneof(text, fc.array(text, { maxLength: 4 }));
  const query = fc.dictionary(fc.oneof(fc.constantFrom(...keys, '__proto__', 'constructor'), fc.string()), value, {
    maxKeys: 8,
  });

  it('gives what TypeBox conversion gives, for any query string, on every shape the routes use', () => {
    for (const [name, schema] of Object.entries(shapes)) {
      const compiled = compileParamsConversion(schema);
      expect(compiled, name).not.toBeNull();
      fc.assert(
        fc.property(query, (entries) => {
          const raw = parsedQuery(entries);
          const expected = convertParams(schema, parsedQuery(entries));
          const got = compiled?.(raw) as object;
          // Compared as entries: a `constructor` key would otherwise be taken for the object's class.
          expect(Object.entries(got)).toStrictEqual(Object.entries(expected as object));
          expect(Object.getPrototypeOf(got)).toBe(Object.getPrototypeOf(expected));
          // The conversion must not change what it was given, as TypeBox's works on a clone.
          expect(Object.entries(raw)).toStrictEqual(Object.entries(parsedQuery(entries)));
        }),
        { numRuns: 2_000 },
      );
    }
  });

  it('leaves the shapes it does not know to TypeBox', () => {
    expect(compileParamsConversion(Type.Object({ n: Type.Number() }))).toBeNull();
    expect(compileParamsConversion(Type.Object({ o: Type.Object({ a: Type.String() }) }))).toBeNull();
    expect(compileParamsConversion(Type.Object({ s: Type.String({ default: 'x' }) }))).toBeNull();
    expect(compileParamsConversion(Type.Object({ u: Type.Union([Type.Literal('a'), Type.Literal(1)]) }))).toBeNull();
    expect(compileParamsConversion(Type.Object({ a: Type.String() }, { additionalProperties: false }))).toBeNull();
    expect(compileParamsConversion(Type.String())).toBeNull();
  });
});
