import type { Duplex } from 'node:stream';
import { create, type NestorError, PROBLEM_CONTENT_TYPE, toProblem } from '@nestor/sdk';
import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { unstorableScalar } from '../catalog/decode.js';

/** Deepest array/object nesting a JSON body may have; components need about six levels. */
const MAX_JSON_DEPTH = 64;
/** Most keys of one JSON object (a component has about twenty; labels at most 64). */
export const MAX_JSON_OBJECT_KEYS = 1_000;
/** Most values (scalars, arrays, objects) in one JSON body. */
export const MAX_JSON_VALUES = 100_000;
/** Longest JSON string, key or value, in characters. */
export const MAX_JSON_STRING = 65_536;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bodyError(code: 'invalid_request' | 'unsupported_media_type', message: string): NestorError {
  return create(code).component('api').operation('DecodeBody').message(message).build();
}

/**
 * The one JSON body decoder: UTF-8 only (a declared charset must be UTF-8, a content coding is
 * refused), bounded nesting (checked before parsing, so a hostile body cannot exhaust the stack),
 * and values that survive storage unchanged: no `__proto__`/`constructor` keys, no numbers that
 * overflow to Infinity and no lone UTF-16 surrogates (which UTF-8 stores would silently replace).
 */
export function decodeJsonBody(body: Buffer, headers: Record<string, string | string[] | undefined>): unknown {
  const encoding = headerValue(headers['content-encoding'])?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw bodyError(
      'unsupported_media_type',
      `content encoding "${encoding.slice(0, 40)}" is not supported; send the body uncompressed`,
    );
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i
    .exec(headerValue(headers['content-type']) ?? '')?.[1]
    ?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw bodyError(
      'unsupported_media_type',
      `charset "${charset.slice(0, 40)}" is not supported; JSON bodies are UTF-8`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw bodyError('invalid_request', 'request body is not valid UTF-8');
  }
  if (text.trim() === '') throw bodyError('invalid_request', 'request body is empty');
  const over = jsonShapeProblem(text);
  if (over) throw bodyError('invalid_request', `request body ${over}`);
  try {
    return needsValueChecks(text) ? JSON.parse(text, checkJsonValue) : JSON.parse(text);
  } catch (err) {
    throw bodyError('invalid_request', `request body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Whether the text could hold what `checkJsonValue` refuses. A reviver makes JSON.parse several
 * times slower, and the refused values can only come from visible text: a lone surrogate only from
 * a `\u` escape (valid UTF-8 cannot encode one), a forbidden key only from its name or an escape,
 * an overflowing number only from an exponent or a literal of 309 digits or more. Text that may
 * hold one is parsed with the checks; a false alarm only costs the slower parse.
 */
function needsValueChecks(text: string): boolean {
  return (
    text.includes('\\u') ||
    text.includes('__proto__') ||
    text.includes('constructor') ||
    EXPONENT.test(text) ||
    LONG_DIGITS.test(text)
  );
}

const EXPONENT = /\d[eE]/;
const LONG_DIGITS = /\d{309}/;

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

function checkJsonValue(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor') throw new SyntaxError(`forbidden key "${key}"`);
  if (unstorableScalar(key)) throw new SyntaxError('a key holds a lone UTF-16 surrogate');
  const reason = unstorableScalar(value);
  if (reason) throw new SyntaxError(`"${key.slice(0, 60)}" holds a ${reason}`);
  return value;
}

/**
 * What a body goes over (nesting, keys of one object, values, string length), or null. One
 * linear scan of the text before JSON.parse, so neither the parse nor anything that walks the
 * value afterwards can be made to recurse deeply, build huge objects or index huge strings.
 * Counts are from the text: a body that is not JSON at all is left to JSON.parse to explain.
 */
export function jsonShapeProblem(text: string): string | null {
  // Keys counted per open object; arrays hold -1 so that their separators are not counted.
  const keys: number[] = [];
  let values = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let length = 0;
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x22) break;
        // An escape is one character of the decoded string: `\n` is two characters of text, `\u00e9` six.
        if (s === 0x5c) i += text.charCodeAt(i + 1) === 0x75 ? 5 : 1;
        if (++length > MAX_JSON_STRING) return `holds a string longer than ${MAX_JSON_STRING} characters`;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (keys.length >= MAX_JSON_DEPTH) return `nests deeper than ${MAX_JSON_DEPTH} levels`;
      keys.push(c === 0x7b ? 0 : -1);
      values++;
    } else if (c === 0x7d || c === 0x5d) {
      keys.pop();
    } else if (c === 0x3a) {
      const top = keys.length - 1;
      const count = keys[top];
      if (count !== undefined && count >= 0) {
        keys[top] = count + 1;
        if (count + 1 > MAX_JSON_OBJECT_KEYS) return `has an object with more than ${MAX_JSON_OBJECT_KEYS} keys`;
      }
    } else if (c === 0x2c && ++values > MAX_JSON_VALUES) {
      return `holds more than ${MAX_JSON_VALUES} values`;
    }
  }
  return null;
}

const DECIMAL_INTEGER = /^[+-]?\d{1,15}$/;

/**
 * TypeBox's conversion for query strings and path parameters, minus its lossy cases: an integer
 * parameter must be written as a decimal integer (`1e3`, `1.5` and `0x10` stay strings and fail
 * the check instead of becoming 1, 1 and 16).
 */
export function convertParams(schema: TSchema, data: unknown): unknown {
  const value = Value.Convert(schema, Value.Default(schema, Value.Clone(withoutProto(data))));
  const properties = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!properties || !data || typeof data !== 'object' || !value || typeof value !== 'object') return value;
  const raw = data as Record<string, unknown>;
  for (const [key, prop] of Object.entries(properties)) {
    const original = raw[key];
    if (prop.type === 'integer' && typeof original === 'string' && !DECIMAL_INTEGER.test(original)) {
      (value as Record<string, unknown>)[key] = original;
    }
  }
  return value;
}

/**
 * A query string's own `__proto__` key, which no route reads, dropped: copied by assignment it
 * would become the copy's prototype (`?__proto__=a&__proto__=b` made TypeBox's clone throw, a 500).
 */
function withoutProto(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || !Object.hasOwn(data, '__proto__')) return data;
  const copy: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(data)) {
    if (key !== '__proto__') copy[key] = (data as Record<string, unknown>)[key];
  }
  return copy;
}

/** What a compiled conversion does to one property of a query string or path parameters. */
interface PropertyPlan {
  key: string;
  convert: 'keep' | 'integer' | 'boolean';
  /** The schema's default, a string, number or boolean; undefined when it has none. */
  fallback: string | number | boolean | undefined;
}

/**
 * `convertParams` for one schema, made once per route: the same values for every input (a
 * property test holds the two together), without TypeBox's clone, default and convert walks over
 * the schema on every request (10.7 % of a distinct list request's instructions at 100 000
 * components). Handles the shapes the routes use: an object of strings, integers, booleans, unions
 * of string literals and string-or-array unions, with primitive defaults; null for any other
 * schema, which then goes through `convertParams`.
 */
export function compileParamsConversion(schema: TSchema): ((data: unknown) => unknown) | null {
  if (schema[Kind] !== 'Object' || schema['additionalProperties'] !== undefined) return null;
  const plan: PropertyPlan[] = [];
  for (const [key, prop] of Object.entries((schema['properties'] ?? {}) as Record<string, TSchema>)) {
    const fallback: unknown = prop['default'];
    if (fallback !== undefined && !['string', 'number', 'boolean'].includes(typeof fallback)) return null;
    const kind = prop[Kind] as string;
    let convert: PropertyPlan['convert'];
    if (kind === 'Integer') convert = 'integer';
    else if (kind === 'Boolean') convert = 'boolean';
    else if (kind === 'String' || (kind === 'Union' && keepsStrings(prop))) convert = 'keep';
    else return null;
    if (convert === 'keep' && fallback !== undefined) return null;
    plan.push({ key, convert, fallback: fallback as PropertyPlan['fallback'] });
  }
  return (data: unknown): unknown => {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return convertParams(schema, data);
    const raw = data as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.getOwnPropertyNames(raw)) {
      if (key === '__proto__') continue;
      const value = raw[key];
      out[key] = Array.isArray(value) ? value.slice() : value;
    }
    for (const p of plan) {
      const value = out[p.key];
      if (value === undefined) {
        if (p.fallback !== undefined) out[p.key] = p.fallback;
      } else if (p.convert === 'integer') {
        if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) out[p.key] = Number.parseInt(value, 10);
      } else if (p.convert === 'boolean' && typeof value === 'string') {
        const lower = value.toLowerCase();
        if (lower === 'true' || value === '1') out[p.key] = true;
        else if (lower === 'false' || value === '0' || value === '-0') out[p.key] = false;
      }
    }
    return out;
  };
}

/**
 * A union TypeBox's conversion gives back unchanged when handed a string or an array of strings:
 * string literals (a string matching none converts to itself), or a string and an array of strings.
 */
function keepsStrings(union: TSchema): boolean {
  const variants = (union['anyOf'] ?? []) as TSchema[];
  if (variants.length === 0 || variants.some((v) => v['default'] !== undefined)) return false;
  if (variants.every((v) => v[Kind] === 'Literal' && typeof v['const'] === 'string')) return true;
  return (
    variants.length === 2 &&
    variants.some((v) => v[Kind] === 'String') &&
    variants.some((v) => v[Kind] === 'Array' && (v['items'] as TSchema | undefined)?.[Kind] === 'String')
  );
}

/**
 * Matches request paths against the registered routes, so a path that exists for other methods
 * answers 405 with `Allow` instead of 404.
 */
export class RouteMethods {
  private readonly routes: { pattern: RegExp; methods: Set<string> }[] = [];

  add(method: string | string[], url: string): void {
    const source = `^${url
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}/?$`;
    let route = this.routes.find((r) => r.pattern.source === source);
    if (!route) {
      route = { pattern: new RegExp(source), methods: new Set() };
      this.routes.push(route);
    }
    for (const m of Array.isArray(method) ? method : [method]) route.methods.add(m.toUpperCase());
  }

  /** Methods registered for `path` (without its query string), sorted; empty when none. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const r of this.routes) if (r.pattern.test(path)) for (const m of r.methods) methods.add(m);
    return [...methods].sort();
  }
}

/**
 * Requests Node's HTTP parser refuses (bad or conflicting Content-Length, bad chunking, headers too
 * large, a request that never completed) get the same problem body as every other error, instead
 * of a bare status line.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const message =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'the request headers are larger than the server accepts'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'the request was not received in time'
        : 'the request is not valid HTTP (check Content-Length, Transfer-Encoding and the request line)';
  const body = JSON.stringify(
    toProblem(create('invalid_request').component('api').operation('ParseRequest').message(message).build()),
  );
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's request id when it is one short token, else null. */
export function clientRequestId(header: string | string[] | undefined): string | null {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : null;
}
