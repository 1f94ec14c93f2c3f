import { createHash } from 'node:crypto';
import { type ComponentSpec, contentOf } from './component.js';

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, `undefined` members
 * dropped, arrays in order. Numbers use ECMAScript's shortest round-trip form, which every
 * conforming JSON.stringify produces identically, so the digest is the same on every platform.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (value === undefined) return 'null';
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** `sha256:<hex>` over the canonical JSON of the spec's content fields. */
export function computeDigest(spec: ComponentSpec): string {
  return `sha256:${createHash('sha256')
    .update(canonicalJson(contentOf(spec)))
    .digest('hex')}`;
}
