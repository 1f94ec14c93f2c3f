import { invalidRequest, type NestorError } from '@nestor/sdk';
import type { Static, TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checker<T extends TSchema>(schema: T): TypeCheck<T> {
  let check = compiled.get(schema) as TypeCheck<T> | undefined;
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check;
}

/** `/required_inputs/0/type` → `required_inputs[0].type`. */
export function jsonPointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

/**
 * Checks a decoded JSON or YAML value against a TypeBox schema without coercion, and explains the
 * first problem by field: unknown fields are named (a typo such as `requred_inputs` never passes),
 * wrong types say what was expected.
 */
export function decode<T extends TSchema>(
  schema: T,
  value: unknown,
  where: { component: string; operation: string; what?: string },
): Static<T> {
  const check = checker(schema);
  if (check.Check(value)) return value as Static<T>;
  throw explain(check, value, where);
}

/**
 * The deepest error inside a union's variants: `deprecated: { reason: <too long> } | null` is
 * better explained by `deprecated.reason` than by "expected union value" on `deprecated`.
 */
function insideUnion(error: ValueError): ValueError {
  if (error.type !== ValueErrorType.Union) return error;
  let best = error;
  for (const variant of error.errors) {
    for (const sub of variant) {
      const inner = insideUnion(sub);
      if (inner.path.length > best.path.length) best = inner;
    }
  }
  return best;
}

function explain(
  check: TypeCheck<TSchema>,
  value: unknown,
  where: { component: string; operation: string; what?: string },
): NestorError {
  const what = where.what ?? 'request body';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return invalidRequest(where.component, where.operation, `${what} must be a JSON object`);
  }
  const errors = [...check.Errors(value)];
  // Prefer the most telling error: an unknown field, then the deepest path.
  const unknown = errors.find((e) => e.type === ValueErrorType.ObjectAdditionalProperties);
  if (unknown) {
    const field = jsonPointerToPath(unknown.path);
    if ((unknown.schema as { patternProperties?: unknown }).patternProperties) {
      // A map (labels, annotations) whose key has the wrong shape, not a misspelt field.
      const key = unknown.path.slice(unknown.path.lastIndexOf('/') + 1);
      const map = jsonPointerToPath(unknown.path.slice(0, unknown.path.lastIndexOf('/')));
      return invalidRequest(
        where.component,
        where.operation,
        `invalid key "${key.slice(0, 80)}" in "${map}" of ${what}: keys are letters, digits and ._/-, at most 253 characters`,
        { field, reason: 'invalid_key' },
      );
    }
    return invalidRequest(where.component, where.operation, `unknown field "${field}" in ${what}`, {
      field,
      reason: 'unknown_field',
    });
  }
  const required = errors.find((e) => e.type === ValueErrorType.ObjectRequiredProperty);
  const first = required ?? errors.map(insideUnion).sort((a, b) => b.path.length - a.path.length)[0];
  if (!first) return invalidRequest(where.component, where.operation, `${what} is malformed`);
  const field = jsonPointerToPath(first.path);
  const message =
    first.type === ValueErrorType.ObjectRequiredProperty
      ? `missing required field "${field}" in ${what}`
      : `invalid field "${field}" in ${what}: ${first.message.toLowerCase()}`;
  return invalidRequest(where.component, where.operation, message, { field, reason: first.message });
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why one JSON/YAML scalar or key would not survive storage unchanged, or null: a non-finite number
 * (YAML `.inf`, JSON `1e400`) is written as null, and a lone UTF-16 surrogate is not Unicode text
 * (UTF-8 consumers replace it, so digests computed elsewhere would differ).
 */
export function unstorableScalar(value: unknown): string | null {
  if (typeof value === 'number' && !Number.isFinite(value)) return 'number out of range';
  if (typeof value === 'string' && LONE_SURROGATE.test(value)) return 'string with a lone UTF-16 surrogate';
  return null;
}

/** The first field of a decoded document that would not be stored unchanged, with the reason. */
export function findUnstorable(value: unknown, path = ''): { field: string; reason: string } | null {
  const found = unstorableIn(value);
  if (!found) return null;
  // Steps were gathered innermost first, on the way back out of the walk.
  let field = path;
  for (let i = found.steps.length - 1; i >= 0; i--) {
    const step = found.steps[i] as string | number;
    field = typeof step === 'number' ? `${field}[${step}]` : field ? `${field}.${step}` : step;
  }
  return { field, reason: found.reason };
}

/**
 * The walk behind `findUnstorable`. Every body and YAML document goes through it, nearly always
 * clean, so it allocates nothing until it finds a field: the path is built on the way back out.
 */
function unstorableIn(value: unknown): { steps: (string | number)[]; reason: string } | null {
  const reason = unstorableScalar(value);
  if (reason) return { steps: [], reason };
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableIn(value[i]);
      if (found) {
        found.steps.push(i);
        return found;
      }
    }
    return null;
  }
  const record = value as Record<string, unknown>;
  // Keys before values: a bad key is the one reported even when a value before it is bad too.
  for (const key in record) {
    if (Object.hasOwn(record, key) && unstorableScalar(key))
      return { steps: [key], reason: 'a key with a lone UTF-16 surrogate' };
  }
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const found = unstorableIn(record[key]);
    if (found) {
      found.steps.push(key);
      return found;
    }
  }
  return null;
}
