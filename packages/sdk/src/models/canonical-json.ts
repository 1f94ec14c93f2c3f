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
  // String building rather than map/filter/join: digests are computed on every create and every
  // validation, and this halves their cost without changing a byte.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole joins as nothing, as Array.prototype.map + join did.
      if (i in value) out += canonicalJson(value[i] === undefined ? null : value[i]);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const k of keys) {
    const member = record[k];
    if (member === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}
