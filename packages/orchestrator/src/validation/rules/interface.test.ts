import type { ComponentSpecInput } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { contentContext, makeSpec } from '../testing.js';
import { interfaceRule } from './interface.js';

const check = (overrides: Partial<ComponentSpecInput>) => interfaceRule.check(contentContext(makeSpec(overrides)));
const codes = (overrides: Partial<ComponentSpecInput>) => check(overrides).errors.map((e) => [e.code, e.field]);
const warnings = (overrides: Partial<ComponentSpecInput>) => check(overrides).warnings.map((e) => [e.code, e.field]);

describe('interface rule', () => {
  it('accepts the default test component', () => {
    expect(check({})).toEqual({ errors: [], warnings: [] });
  });

  const errorCases: [string, Partial<ComponentSpecInput>, [string, string][]][] = [
    [
      'unknown input type',
      { required_inputs: [{ name: 'x', type: 'wobbly' }] },
      [['unknown_type', 'required_inputs[0].type']],
    ],
    ['unknown output type', { outputs: [{ name: 'x', type: 'String' }] }, [['unknown_type', 'outputs[0].type']]],
    [
      'input name not an identifier',
      { optional_inputs: [{ name: '9lives', type: 'string' }] },
      [['invalid_input_name', 'optional_inputs[0].name']],
    ],
    [
      'output name with a dash',
      { outputs: [{ name: 'a-b', type: 'string' }] },
      [['invalid_output_name', 'outputs[0].name']],
    ],
    [
      'input declared twice across lists',
      { required_inputs: [{ name: 'x', type: 'string' }], optional_inputs: [{ name: 'x', type: 'string' }] },
      [['duplicate_input', 'optional_inputs[0].name']],
    ],
    [
      'output declared twice',
      {
        outputs: [
          { name: 'o', type: 'string' },
          { name: 'o', type: 'number' },
        ],
      },
      [['duplicate_output', 'outputs[1].name']],
    ],
    [
      'required input with a default',
      { required_inputs: [{ name: 'x', type: 'string', default: 'a' }] },
      [['required_input_has_default', 'required_inputs[0].default']],
    ],
    [
      'default of the wrong type',
      { optional_inputs: [{ name: 'n', type: 'integer', default: 1.5 }] },
      [['default_type_mismatch', 'optional_inputs[0].default']],
    ],
    [
      'list default that is a map',
      { optional_inputs: [{ name: 'l', type: 'list', default: { a: 1 } }] },
      [['default_type_mismatch', 'optional_inputs[0].default']],
    ],
    [
      'empty enum',
      { optional_inputs: [{ name: 'e', type: 'string', enum: [] }] },
      [['empty_enum', 'optional_inputs[0].enum']],
    ],
    [
      'enum value of the wrong type',
      { optional_inputs: [{ name: 'e', type: 'number', enum: [1, 'two'] }] },
      [['enum_type_mismatch', 'optional_inputs[0].enum[1]']],
    ],
    [
      'duplicate enum value',
      { optional_inputs: [{ name: 'e', type: 'string', enum: ['a', 'a'] }] },
      [['duplicate_enum_value', 'optional_inputs[0].enum[1]']],
    ],
    [
      'default outside the enum',
      { optional_inputs: [{ name: 'e', type: 'string', enum: ['a', 'b'], default: 'c' }] },
      [['default_not_in_enum', 'optional_inputs[0].default']],
    ],
    [
      'enum on a map',
      { optional_inputs: [{ name: 'e', type: 'map', enum: [{}] }] },
      [['enum_not_supported', 'optional_inputs[0].enum']],
    ],
    [
      'too large an enum',
      { optional_inputs: [{ name: 'e', type: 'integer', enum: Array.from({ length: 501 }, (_, i) => i) }] },
      [['enum_too_large', 'optional_inputs[0].enum']],
    ],
    [
      'too long a description',
      { outputs: [{ name: 'o', type: 'string', description: 'x'.repeat(1025) }] },
      [['description_too_long', 'outputs[0].description']],
    ],
  ];
  for (const [what, overrides, expected] of errorCases) {
    it(`rejects ${what}`, () => {
      expect(codes(overrides)).toEqual(expected);
    });
  }

  it('suggests the lowercase type', () => {
    expect(check({ outputs: [{ name: 'o', type: 'String' }] }).errors[0]!.message).toContain('did you mean "string"');
  });

  it('accepts every type with a matching default', () => {
    const defaults: [string, unknown][] = [
      ['string', 's'],
      ['number', 1.5],
      ['integer', 3],
      ['boolean', false],
      ['list', [1]],
      ['map', { a: 'b' }],
      ['object', { a: 1 }],
    ];
    expect(
      codes({ optional_inputs: defaults.map(([type, value]) => ({ name: `i_${type}`, type, default: value })) }),
    ).toEqual([]);
  });

  it('warns about secrets that are not flagged sensitive', () => {
    expect(warnings({ outputs: [{ name: 'admin_password', type: 'string' }] })).toEqual([
      ['possibly_sensitive', 'outputs[0].sensitive'],
    ]);
    expect(warnings({ outputs: [{ name: 'pw', type: 'secret' }] })).toEqual([
      ['sensitive_not_flagged', 'outputs[0].sensitive'],
    ]);
    expect(warnings({ outputs: [{ name: 'pw', type: 'secret', sensitive: true }] })).toEqual([]);
    expect(warnings({ optional_inputs: [{ name: 'pw', type: 'secret', default: 'hunter2' }] })).toEqual([
      ['sensitive_default', 'optional_inputs[0].default'],
    ]);
  });

  it('caps inputs and outputs with one clear error instead of thousands', () => {
    const many = Array.from({ length: 5_000 }, (_, i) => ({ name: `bad-${i}`, type: 'nope' }));
    const outcome = check({ optional_inputs: many, outputs: many });
    expect(outcome.errors.map((e) => e.code)).toEqual(['too_many_inputs', 'too_many_outputs']);
  });
});
