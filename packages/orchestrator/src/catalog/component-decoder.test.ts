import { NestorError } from '@nestor/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseComponentFile } from '../sources/parser.js';
import { decodeComponent } from './component-decoder.js';
import { findUnstorable, unstorableScalar } from './decode.js';

/** The plain statement of what findUnstorable answers: every path built, keys of an object before its values. */
function reference(value: unknown, path = ''): { field: string; reason: string } | null {
  const reason = unstorableScalar(value);
  if (reason) return { field: path, reason };
  if (value === null || typeof value !== 'object') return null;
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [`${path}[${i}]`, v])
    : Object.entries(value).map(([k, v]) => [path ? `${path}.${k}` : k, v]);
  if (!Array.isArray(value)) {
    for (const key of Object.keys(value)) {
      if (unstorableScalar(key))
        return { field: path ? `${path}.${key}` : key, reason: 'a key with a lone UTF-16 surrogate' };
    }
  }
  for (const [field, v] of entries) {
    const found = reference(v, field);
    if (found) return found;
  }
  return null;
}

const where = { component: 'test', operation: 'Decode', what: 'component document' };
const base = {
  name: 'pg',
  version: '1.0.0',
  description: 'Postgres',
  provider: 'aws',
  category: 'database',
  resource_type: 'postgresql',
};

function yaml(extra: string) {
  const text = `name: pg\nversion: 1.0.0\ndescription: Postgres\nprovider: aws\ncategory: database\nresource_type: postgresql\n${extra}`;
  return parseComponentFile({
    path: 'pg/component.yaml',
    content: Buffer.from(text),
    repository: '/srv/components',
    commit: null,
  });
}

describe('values that would not be stored unchanged', () => {
  it('names the field of an infinite number or a lone surrogate', () => {
    expect(findUnstorable({ a: [1, { b: Number.POSITIVE_INFINITY }] })).toEqual({
      field: 'a[1].b',
      reason: 'number out of range',
    });
    expect(findUnstorable({ labels: { team: 'x\ud800' } })?.field).toBe('labels.team');
    expect(findUnstorable({ labels: { '\udfff': 'x' } })?.field).toBe('labels.\udfff');
    expect(findUnstorable({ ok: ['😀', 1.5, -0, null, true] })).toBeNull();
  });

  it('names the same field as walking every path would, for any document', () => {
    const scalar = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('x\ud800', '\udfffy', Number.NaN, Number.POSITIVE_INFINITY, -0, null, true),
      fc.double(),
    );
    const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('\ud800', '0', '12', 'a.b'));
    const doc = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, scalar, tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }),
      object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    })).value;
    fc.assert(
      fc.property(doc, fc.constantFrom('', 'spec'), (value, path) => {
        expect(findUnstorable(value, path)).toEqual(reference(value, path));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses them in a component with invalid_request naming the field', () => {
    const bad = { ...base, optional_inputs: [{ name: 'a', type: 'number', default: Number.NaN }] };
    try {
      decodeComponent(bad, where);
      expect.unreachable();
    } catch (err) {
      expect(NestorError.hasCode(err, 'invalid_request')).toBe(true);
      expect((err as NestorError).details.field).toBe('optional_inputs[0].default');
    }
    expect(decodeComponent(base, where).name).toBe('pg');
  });

  it('turns YAML .inf and "\\ud800" into file errors instead of storing null or broken text', () => {
    const inf = yaml('optional_inputs:\n  - { name: a, type: number, default: .inf }\n');
    expect(inf.components).toHaveLength(0);
    expect(inf.errors[0]).toMatchObject({ code: 'invalid_request' });
    expect(inf.errors[0]?.message).toMatch(/optional_inputs\[0\]\.default.*number out of range/);
    const surrogate = yaml('labels: { team: "a\\ud800" }\n');
    expect(surrogate.components).toHaveLength(0);
    expect(surrogate.errors[0]?.message).toMatch(/labels\.team.*lone UTF-16 surrogate/);
    expect(yaml('labels: { team: "data" }\n').components).toHaveLength(1);
  });
});
