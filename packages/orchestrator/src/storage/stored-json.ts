import type { ComponentDefinition } from '@nestor/sdk';
import type { Page, StoredJson } from './interfaces.js';
import { withLifecycle } from './records.js';

/**
 * A stored definition's JSON text as a read answers it, without building the object: the top-level
 * members an answer needs besides the body (digest and revision for the ETag, deleted for the 410)
 * are found by skipping over every value, which costs a fraction of `JSON.parse` + `JSON.stringify`.
 *
 * Text that is not what reads show is rewritten through the parsed path, so both paths always
 * agree: rows written before lifecycle states existed lack `revoked` and `orphaned`, and
 * `withLifecycle` adds them (and drops a `deleted: null`), as every parsed read does.
 */
export function storedJson(json: string): StoredJson {
  const top = topLevel(json);
  if (top === null || top.digest === undefined || top.revision === undefined || !top.current) {
    return fromDefinition(withLifecycle(JSON.parse(json) as ComponentDefinition));
  }
  return { json, digest: top.digest, revision: top.revision, deleted: top.deleted };
}

/** A page of `listComponentsJson` as `listComponents` gives it: each text parsed. */
export function parsedPage(page: Page<string>): Page<ComponentDefinition> {
  return { items: page.items.map((json) => JSON.parse(json) as ComponentDefinition), nextCursor: page.nextCursor };
}

/** The answer of a definition held as an object (the memory store, rewritten rows). */
export function fromDefinition(c: ComponentDefinition): StoredJson {
  return {
    json: JSON.stringify(c),
    digest: c.digest,
    revision: c.revision,
    deleted: c.deleted ? { purged: Boolean(c.deleted.purged_at) } : null,
  };
}

interface TopLevel {
  digest: string | undefined;
  revision: number | undefined;
  deleted: StoredJson['deleted'];
  /** `revoked` and `orphaned` are present and `deleted` is not null: the text is what reads show. */
  current: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** The members of a top-level object this module needs; null when the text is not such an object. */
function topLevel(s: string): TopLevel | null {
  let digest: string | undefined;
  let revision: number | undefined;
  let deleted: StoredJson['deleted'] = null;
  let revoked = false;
  let orphaned = false;
  let deletedNull = false;
  let i = skipSpace(s, 0);
  if (s.charCodeAt(i) !== OPEN_BRACE) return null;
  i = skipSpace(s, i + 1);
  if (s.charCodeAt(i) === CLOSE_BRACE) return null;
  for (;;) {
    if (s.charCodeAt(i) !== QUOTE) return null;
    const keyEnd = stringEnd(s, i);
    if (keyEnd < 0) return null;
    const key = s.slice(i + 1, keyEnd - 1);
    i = skipSpace(s, keyEnd);
    if (s.charCodeAt(i) !== COLON) return null;
    const start = skipSpace(s, i + 1);
    const end = valueEnd(s, start);
    if (end < 0) return null;
    switch (key) {
      case 'digest':
        digest = s.charCodeAt(start) === QUOTE ? (JSON.parse(s.slice(start, end)) as string) : undefined;
        break;
      case 'revision': {
        const n = Number(s.slice(start, end));
        revision = Number.isInteger(n) ? n : undefined;
        break;
      }
      case 'revoked':
        revoked = true;
        break;
      case 'orphaned':
        orphaned = true;
        break;
      case 'deleted':
        if (s.charCodeAt(start) === OPEN_BRACE) {
          const value = JSON.parse(s.slice(start, end)) as { purged_at?: string | null };
          deleted = { purged: Boolean(value.purged_at) };
        } else deletedNull = true;
        break;
    }
    i = skipSpace(s, end);
    const c = s.charCodeAt(i);
    if (c === COMMA) {
      i = skipSpace(s, i + 1);
      continue;
    }
    if (c === CLOSE_BRACE) break;
    return null;
  }
  return { digest, revision, deleted, current: revoked && orphaned && !deletedNull };
}

function skipSpace(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** Index just past the string starting at `i` (an opening quote); -1 when it never ends. */
function stringEnd(s: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = s.indexOf('"', from);
    if (q < 0) return -1;
    let slashes = 0;
    for (let j = q - 1; s.charCodeAt(j) === BACKSLASH; j--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Index just past the value starting at `i`; -1 when the text ends first. */
function valueEnd(s: string, i: number): number {
  const first = s.charCodeAt(i);
  if (first === QUOTE) return stringEnd(s, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === QUOTE) {
        const end = stringEnd(s, j);
        if (end < 0) return -1;
        j = end - 1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)
      break;
  }
  return j > i ? j : -1;
}
