import type { ComponentSpecInput } from '@nestor/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentContext, makeSpec } from '../testing.js';
import { NAME_PATTERN } from './common.js';
import { metadataRule } from './metadata.js';

const codes = (overrides: Partial<ComponentSpecInput>) =>
  metadataRule.check(contentContext(makeSpec(overrides))).errors.map((e) => [e.code, e.field]);

describe('metadata rule', () => {
  it.each([
    ['a', []],
    ['aws-rds-postgres', []],
    ['0x', []],
    ['a'.repeat(63), []],
    ['a'.repeat(64), [['name_too_long', 'name']]],
    ['', [['invalid_name', 'name']]],
    ['Bad_Name', [['invalid_name', 'name']]],
    ['-lead', [['invalid_name', 'name']]],
    ['trail-', [['invalid_name', 'name']]],
    ['../etc/passwd', [['invalid_name', 'name']]],
    ['a/b', [['invalid_name', 'name']]],
    ['a.b', [['invalid_name', 'name']]],
    ['ünï', [['invalid_name', 'name']]],
  ])('name %j', (name, expected) => {
    expect(codes({ name })).toEqual(expected);
  });

  it('explains a path traversal and suggests lowercase', () => {
    const msg = (name: string) => metadataRule.check(contentContext(makeSpec({ name }))).errors[0]!.message;
    expect(msg('../x')).toContain('path separator');
    expect(msg('MyDb')).toContain('use "mydb"');
  });

  it('requires provider, category and resource_type, bounded', () => {
    expect(codes({ provider: '', category: ' ', resource_type: 'x'.repeat(200) })).toEqual([
      ['missing_field', 'provider'],
      ['missing_field', 'category'],
      ['field_too_long', 'resource_type'],
    ]);
    expect(codes({ provider: 'aws\n' })).toEqual([['invalid_field_value', 'provider']]);
  });

  it('bounds the description', () => {
    expect(codes({ description: 'x'.repeat(4097) })).toEqual([['description_too_long', 'description']]);
  });

  it('accepts exactly the names the design pattern accepts', () => {
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^[a-z0-9-]{0,70}$/), fc.string({ maxLength: 70 })), (name) => {
        const ok = codes({ name }).length === 0;
        expect(ok).toBe(name.length <= 63 && NAME_PATTERN.test(name));
      }),
      { numRuns: 1_000 },
    );
  });
});
