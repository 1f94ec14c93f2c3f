import { create, type NestorError } from '@nestor/sdk';
import { Kind, type TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { parseDuration } from './duration.js';

/** Every configuration problem: `invalid_request`, naming the key. */
export function configError(message: string): NestorError {
  return create('invalid_request').component('config').operation('LoadConfig').message(message).build();
}

/** Runs `fn`, turning what it throws into a config error prefixed with `what` (an env variable). */
export function wrap<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw configError(`${what}: ${(err as Error).message}`);
  }
}

/** `sources[1]` + `url` → `sources[1].url`; the root has no prefix. */
export function keyPath(prefix: string, key: string | number): string {
  if (typeof key === 'number') return `${prefix}[${key}]`;
  return prefix ? `${prefix}.${key}` : key;
}

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/**
 * Checks a decoded YAML/JSON value against a TypeBox schema, without coercion or defaults, and
 * throws the config error a person can act on: the key path and what was expected
 * (`server.port must be an integer from 0 to 65535`, `unknown config key "server.prot" (known: …)`).
 * A null property counts as absent (YAML `key:` with no value, `NESTOR_X=` in the environment), so
 * the value returned has no null properties where the schema names its keys.
 */
export function checkConfig<T>(schema: TSchema, value: unknown, prefix: string): T {
  const cleaned = dropNullKeys(schema, value);
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  if (check.Check(cleaned)) return cleaned as T;
  const errors = [...check.Errors(cleaned)];
  const unknown = errors
    .filter((e) => e.type === ValueErrorType.ObjectAdditionalProperties)
    .sort((a, b) => a.path.split('/').length - b.path.split('/').length)[0];
  const first = unknown ?? errors[0];
  throw configError(first ? explain(schema, first, prefix) : `${prefix || 'configuration'} is malformed`);
}

function dropNullKeys(schema: TSchema, value: unknown): unknown {
  if (schema[Kind] === 'Object' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const properties = (schema.properties ?? {}) as Record<string, TSchema>;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === null) continue;
      const property = properties[key];
      out[key] = property ? dropNullKeys(property, v) : v;
    }
    return out;
  }
  if (schema[Kind] === 'Array' && Array.isArray(value)) {
    return value.map((item) => dropNullKeys(schema.items as TSchema, item));
  }
  return value;
}

function explain(root: TSchema, error: ValueError, prefix: string): string {
  const parts = error.path
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path = (n: number) =>
    parts.slice(0, n).reduce<string>((at, p) => keyPath(at, /^\d+$/.test(p) ? Number(p) : p), prefix);
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    const known = Object.keys((error.schema.properties ?? {}) as object);
    return `unknown config key "${path(parts.length)}" (known: ${known.join(', ')})`;
  }
  if (error.type === ValueErrorType.ObjectRequiredProperty) return `${path(parts.length)} is required`;
  // A list of scalars or a mapping of strings is explained as a whole: `labels must be a mapping of strings`.
  let schema = root;
  for (let i = 0; i < parts.length; i++) {
    if (isWhole(schema)) return `${path(i)} ${expectation(schema)}`;
    const part = parts[i] ?? '';
    const next: TSchema | undefined =
      schema[Kind] === 'Array' ? schema.items : (schema.properties as Record<string, TSchema> | undefined)?.[part];
    if (!next) break;
    schema = next;
  }
  return `${path(parts.length) || 'configuration'} ${expectation(error.schema)}`;
}

function isWhole(schema: TSchema): boolean {
  return schema[Kind] === 'Record' || (schema[Kind] === 'Array' && (schema.items as TSchema)[Kind] !== 'Object');
}

/** What a schema expects, in the words of the config documentation. */
function expectation(schema: TSchema): string {
  if (schema.description && schema[Kind] === 'Union' && !isEnum(schema)) return `must be ${schema.description}`;
  switch (schema[Kind]) {
    case 'Integer':
      return `must be an integer from ${schema.minimum} to ${schema.maximum}`;
    case 'Boolean':
      return 'must be true or false';
    case 'String':
      if (schema.pattern && schema.description) return `must be ${schema.description}`;
      return schema.maxLength === undefined
        ? 'must be a non-empty string'
        : `must be a non-empty string of at most ${schema.maxLength} characters`;
    case 'Union':
      return isEnum(schema)
        ? `must be one of ${(schema.anyOf as TSchema[]).map((s) => s.const).join(', ')}`
        : 'has the wrong type';
    case 'Literal':
      return `must be ${schema.const}`;
    case 'Array':
      return (schema.items as TSchema)[Kind] === 'String' ? 'must be a list of strings' : 'must be a list';
    case 'Record':
      return 'must be a mapping of strings';
    case 'Object':
      return 'must be a mapping';
    default:
      return 'has the wrong type';
  }
}

function isEnum(schema: TSchema): boolean {
  return Array.isArray(schema.anyOf) && (schema.anyOf as TSchema[]).every((s) => s[Kind] === 'Literal');
}

/** Longest delay a Node timer honours (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** A checked duration (string or number) in milliseconds; the schema already allowed its type. */
export function durationMs(value: string | number | undefined, key: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === null) throw configError(`${key} must be a duration such as 500ms, 30s, 5m, 1h or a number of seconds`);
  return ms;
}

/**
 * A duration that drives a timer: Node runs a timer longer than MAX_TIMER_MS after 1 ms, and a
 * period near zero spins, so both ends are refused rather than turned into a busy loop.
 */
export function timerMs(value: string | number | undefined, key: string, minMs: number): number | undefined {
  const ms = durationMs(value, key);
  if (ms !== undefined && (ms < minMs || ms > MAX_TIMER_MS)) {
    throw configError(`${key} must be from ${minMs} ms to 24 days`);
  }
  return ms;
}
