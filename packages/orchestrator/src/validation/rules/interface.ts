import { canonicalJson, type InputSpec, type OutputSpec } from '@nestor/sdk';
import type { ContentContext, ContentRule, RuleOutcome } from '../interfaces.js';
import { Findings, LIMITS, preview } from './common.js';

/** The types an input or output may declare. */
const VALUE_TYPES = ['string', 'number', 'integer', 'boolean', 'list', 'map', 'object', 'secret'] as const;
type ValueType = (typeof VALUE_TYPES)[number];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DESCRIPTION_LIMIT = 1024;
const SCALARS: ReadonlySet<string> = new Set(['string', 'number', 'integer', 'boolean', 'secret']);
// Names that almost always carry credentials: worth a nudge when not flagged.
const SENSITIVE_NAME = /(password|passwd|secret|token|private_?key|api_?key|credential)/i;
/** Enum findings per input beyond which more would only bury the first ones. */
const MAX_ENUM_FINDINGS = 10;

const isKnownType = (type: string): type is ValueType => (VALUE_TYPES as readonly string[]).includes(type);

const isPlainObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);

/** True when `value` is a value of `type`. */
function matchesType(type: ValueType, value: unknown): boolean {
  switch (type) {
    case 'string':
    case 'secret':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'list':
      return Array.isArray(value);
    case 'map':
    case 'object':
      return isPlainObject(value);
  }
}

function checkName(f: Findings<'interface'>, what: 'input' | 'output', name: string, path: string): boolean {
  if (name.length > LIMITS.identifierLength) {
    f.error(
      `invalid_${what}_name`,
      `${path}.name`,
      `${what} name is longer than ${LIMITS.identifierLength} characters`,
    );
    return false;
  }
  if (!IDENTIFIER.test(name)) {
    f.error(
      `invalid_${what}_name`,
      `${path}.name`,
      `${what} name ${JSON.stringify(preview(name))} must be an identifier: a letter or _ followed by letters, digits or _`,
    );
    return false;
  }
  return true;
}

function checkType(
  f: Findings<'interface'>,
  what: 'input' | 'output',
  spec: InputSpec | OutputSpec,
  path: string,
): ValueType | null {
  if (isKnownType(spec.type)) return spec.type;
  const lower = spec.type.toLowerCase();
  const hint = isKnownType(lower) ? `; did you mean "${lower}"?` : '';
  f.error(
    'unknown_type',
    `${path}.type`,
    `${what} ${preview(spec.name)} has unknown type ${JSON.stringify(preview(spec.type))}${hint} (allowed: ${VALUE_TYPES.join(', ')})`,
    { allowed: [...VALUE_TYPES] },
  );
  return null;
}

function checkDescription(f: Findings<'interface'>, spec: InputSpec | OutputSpec, path: string): void {
  if ((spec.description?.length ?? 0) > DESCRIPTION_LIMIT) {
    f.error(
      'description_too_long',
      `${path}.description`,
      `description is longer than ${DESCRIPTION_LIMIT} characters`,
    );
  }
}

function checkEnum(
  f: Findings<'interface'>,
  input: InputSpec,
  type: ValueType | null,
  path: string,
): Set<string> | null {
  const values = input.enum;
  if (values === undefined) return null;
  if (type !== null && !SCALARS.has(type)) {
    f.error('enum_not_supported', `${path}.enum`, `enum is only allowed on scalar types, not ${type}`);
    return null;
  }
  if (values.length === 0) {
    f.error(
      'empty_enum',
      `${path}.enum`,
      `enum of input ${preview(input.name)} is empty; omit it or list the allowed values`,
    );
    return null;
  }
  if (values.length > LIMITS.enumValues) {
    f.error('enum_too_large', `${path}.enum`, `enum has ${values.length} values; at most ${LIMITS.enumValues}`);
    return null;
  }
  const seen = new Set<string>();
  let reported = 0;
  values.forEach((value, j) => {
    if (reported >= MAX_ENUM_FINDINGS) return;
    if (type !== null && !matchesType(type, value)) {
      f.error(
        'enum_type_mismatch',
        `${path}.enum[${j}]`,
        `enum value ${preview(canonicalJson(value))} is not a ${type}`,
      );
      reported += 1;
    }
    const key = canonicalJson(value);
    if (seen.has(key)) {
      f.error('duplicate_enum_value', `${path}.enum[${j}]`, `enum value ${preview(key)} is listed twice`);
      reported += 1;
    }
    seen.add(key);
  });
  return seen;
}

function checkInput(f: Findings<'interface'>, input: InputSpec, required: boolean, path: string): void {
  checkName(f, 'input', input.name, path);
  const type = checkType(f, 'input', input, path);
  checkDescription(f, input, path);
  const allowed = checkEnum(f, input, type, path);
  const isSecret = type === 'secret' || input.sensitive === true;
  if (type === 'secret' && input.sensitive === false) {
    f.warn('sensitive_not_flagged', `${path}.sensitive`, `secret input ${input.name} is marked not sensitive`);
  }
  if (input.default === undefined) return;
  if (required) {
    f.error(
      'required_input_has_default',
      `${path}.default`,
      `required input ${preview(input.name)} has a default; make it optional or drop the default`,
    );
    return;
  }
  if (type !== null && !matchesType(type, input.default)) {
    f.error(
      'default_type_mismatch',
      `${path}.default`,
      `default ${preview(canonicalJson(input.default))} of input ${preview(input.name)} is not a ${type}`,
    );
  } else if (allowed && !allowed.has(canonicalJson(input.default))) {
    f.error(
      'default_not_in_enum',
      `${path}.default`,
      `default of input ${preview(input.name)} is not one of its enum values`,
    );
  }
  if (isSecret) {
    f.warn('sensitive_default', `${path}.default`, `sensitive input ${input.name} has a default that anyone can read`);
  }
}

function checkOutput(f: Findings<'interface'>, output: OutputSpec, path: string): void {
  checkName(f, 'output', output.name, path);
  const type = checkType(f, 'output', output, path);
  checkDescription(f, output, path);
  if (output.sensitive === true) return;
  if (type === 'secret') {
    f.warn('sensitive_not_flagged', `${path}.sensitive`, `output ${output.name} is a secret but not marked sensitive`);
  } else if (SENSITIVE_NAME.test(output.name)) {
    f.warn(
      'possibly_sensitive',
      `${path}.sensitive`,
      `output ${preview(output.name)} looks like a credential; mark it sensitive if it is one`,
    );
  }
}

/**
 * The component's interface: bounded input and output lists, unique identifier-shaped names,
 * known types, defaults and enums that match their types, and sensitive values flagged.
 */
export const interfaceRule: ContentRule = {
  name: 'interface',
  kind: 'content',
  check({ content }: ContentContext): RuleOutcome {
    const f = new Findings('interface');
    const inputCount = content.required_inputs.length + content.optional_inputs.length;
    if (inputCount > LIMITS.inputs) {
      f.error('too_many_inputs', 'required_inputs', `${inputCount} inputs; at most ${LIMITS.inputs} are allowed`, {
        count: inputCount,
        limit: LIMITS.inputs,
      });
    } else {
      const seen = new Map<string, string>();
      const visit = (input: InputSpec, required: boolean, path: string) => {
        checkInput(f, input, required, path);
        const earlier = seen.get(input.name);
        if (earlier !== undefined) {
          f.error('duplicate_input', `${path}.name`, `input ${preview(input.name)} is already declared at ${earlier}`);
        } else seen.set(input.name, path);
      };
      for (const [i, input] of content.required_inputs.entries()) visit(input, true, `required_inputs[${i}]`);
      for (const [i, input] of content.optional_inputs.entries()) visit(input, false, `optional_inputs[${i}]`);
    }
    if (content.outputs.length > LIMITS.outputs) {
      f.error(
        'too_many_outputs',
        'outputs',
        `${content.outputs.length} outputs; at most ${LIMITS.outputs} are allowed`,
        { count: content.outputs.length, limit: LIMITS.outputs },
      );
    } else {
      const seen = new Map<string, string>();
      content.outputs.forEach((output, i) => {
        const path = `outputs[${i}]`;
        checkOutput(f, output, path);
        const earlier = seen.get(output.name);
        if (earlier !== undefined) {
          f.error(
            'duplicate_output',
            `${path}.name`,
            `output ${preview(output.name)} is already declared at ${earlier}`,
          );
        } else seen.set(output.name, path);
      });
    }
    return f.outcome();
  },
};
