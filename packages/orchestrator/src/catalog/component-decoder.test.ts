import { NestorError } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { parseComponentFile } from '../sources/parser.js';
import { decodeComponent } from './component-decoder.js';
import { findUnstorable } from './decode.js';

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
