import { create, FACET_NAMES, type SearchFacet } from '@nestor/sdk';
import { foldText, MAX_QUERY_WORDS, tokenize } from './text.js';

/**
 * The search language (docs/search.md): free words, and `qualifier:value` terms that filter instead
 * of searching. Nothing here is an operator: quotes, `*`, parentheses, `AND`, `NEAR` are either
 * part of a qualifier's value or plain text cut into words.
 */

/** Fields a list or search can be filtered and faceted by (DESIGN.md 10.1): the SDK's list. */
export const FACETS = FACET_NAMES;
export type Facet = SearchFacet;

const MATURITIES = ['alpha', 'beta', 'stable'];
const SUPPORT_LEVELS = ['community', 'supported'];
const COMPONENT = 'search';

/** One filter: the component's `facet` has `value` (for `label`, `key=value`; for `engine`, one of its engines). */
export interface Filter {
  facet: Facet;
  value: string;
}

export interface ParsedQuery {
  /** Distinct folded words to search for, at most `MAX_QUERY_WORDS`; empty for a qualifiers-only query. */
  words: string[];
  /** The free text without qualifiers, folded and trimmed: a component named exactly this ranks first. */
  phrase: string;
  filters: Filter[];
}

function isFacet(value: string): value is Facet {
  return (FACETS as readonly string[]).includes(value);
}

/**
 * Splits `q` into words and qualifiers. A term `key:value` whose key is letters (and `_`/`-`) is a
 * qualifier; `key:"a value"` quotes a value with spaces. Throws `invalid_request` naming an unknown
 * qualifier, a qualifier without a value, or a value the field can never hold.
 */
export function parseSearchText(q: string): ParsedQuery {
  const filters: Filter[] = [];
  const free: string[] = [];
  let i = 0;
  while (i < q.length) {
    while (i < q.length && isSpace(q, i)) i++;
    if (i >= q.length) break;
    const start = i;
    const key = /^[A-Za-z][A-Za-z_-]*:/.exec(q.slice(i, i + 40));
    if (key) {
      i += key[0].length;
      let value: string;
      if (q[i] === '"') {
        const end = q.indexOf('"', i + 1);
        value = q.slice(i + 1, end === -1 ? q.length : end);
        i = end === -1 ? q.length : end + 1;
      } else {
        const from = i;
        while (i < q.length && !isSpace(q, i)) i++;
        value = q.slice(from, i);
      }
      filters.push(qualifier(key[0].slice(0, -1).toLowerCase(), value));
      continue;
    }
    while (i < q.length && !isSpace(q, i)) i++;
    free.push(q.slice(start, i));
  }
  const text = free.join(' ');
  const words: string[] = [];
  for (const w of tokenize(text)) {
    if (words.length >= MAX_QUERY_WORDS) break;
    if (!words.includes(w)) words.push(w);
  }
  return { words, phrase: foldText(text).trim(), filters };
}

const SPACE = /\s/u;

/**
 * Whether `q[i]` is white space as `/\s/u` reads it. Tested on every character of every search: the
 * ASCII ones (nearly all) by their code, the rest by the pattern.
 */
function isSpace(q: string, i: number): boolean {
  const code = q.charCodeAt(i);
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return SPACE.test(q[i] as string);
}

function qualifier(key: string, value: string): Filter {
  const facet = key === 'labels' ? 'label' : key;
  if (!isFacet(facet)) {
    throw invalid(`unknown qualifier "${key.slice(0, 40)}:" in q; known qualifiers: ${FACETS.join(', ')}`, 'q')
      .detail('qualifier', key.slice(0, 40))
      .build();
  }
  return checkFilter(facet, value, 'q');
}

/** Holds a filter value to what the field can hold; throws `invalid_request` otherwise. */
export function checkFilter(facet: Facet, value: string, field: string): Filter {
  if (value === '') {
    throw invalid(`qualifier "${facet}:" needs a value`, field).detail('qualifier', facet).build();
  }
  if (facet === 'maturity' && !MATURITIES.includes(value)) {
    throw invalid(`maturity must be one of ${MATURITIES.join(', ')}`, field)
      .detail('qualifier', facet)
      .build();
  }
  if (facet === 'support_level' && !SUPPORT_LEVELS.includes(value)) {
    throw invalid(`support_level must be one of ${SUPPORT_LEVELS.join(', ')}`, field)
      .detail('qualifier', facet)
      .build();
  }
  if (facet === 'label' && value.indexOf('=') <= 0) {
    throw invalid(`label filter "${value.slice(0, 80)}" must look like key=value`, field)
      .detail('qualifier', facet)
      .build();
  }
  return { facet, value };
}

/**
 * The facets asked for: a comma-separated list (or several `facets=` parameters), deduplicated, in
 * the order given. Throws `invalid_request` naming an unknown facet.
 */
export function parseFacets(raw: string | string[] | undefined): readonly Facet[] {
  if (raw === undefined) return [];
  if (typeof raw === 'string' && raw.length <= KEPT_FACET_TEXT) {
    // A browser or a processor asks the same few lists on every request: each is parsed once
    // (0.6 µs, twice that with the caches a request leaves cold).
    let parsed = parsedFacets.get(raw);
    if (parsed === undefined) {
      parsed = Object.freeze(facetList([raw]));
      if (parsedFacets.size >= KEPT_FACET_LISTS) parsedFacets.clear();
      parsedFacets.set(raw, parsed);
    }
    return parsed;
  }
  return facetList(Array.isArray(raw) ? raw : [raw]);
}

/** Most facet lists `parseFacets` keeps parsed, and the longest text it keeps (every facet once is 67). */
const KEPT_FACET_LISTS = 256;
const KEPT_FACET_TEXT = 160;
const parsedFacets = new Map<string, readonly Facet[]>();

function facetList(raw: readonly string[]): Facet[] {
  const out: Facet[] = [];
  for (const part of raw.flatMap((r) => r.split(','))) {
    const name = part.trim();
    if (name === '') continue;
    if (!isFacet(name)) {
      throw invalid(`unknown facet "${name.slice(0, 40)}"; known facets: ${FACETS.join(', ')}`, 'facets')
        .detail('facet', name.slice(0, 40))
        .build();
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function invalid(message: string, field: string) {
  return create('invalid_request').component(COMPONENT).operation('ParseQuery').message(message).detail('field', field);
}
