import type { FacetCount } from './search-index.js';

/** Most facet values whose opening text is kept; past it the texts are made again as asked. */
const KEPT_VALUES = 4_096;

/**
 * `{"value":<value>,"count":` of the facet values written lately: a page's facets are a few dozen
 * values, nearly always the same ones (providers, categories, engines), and `JSON.stringify` of
 * the whole facets object was 2.6–5 µs of every list and search answer.
 */
const valueOpenings = new Map<string, string>();

function valueOpening(value: string): string {
  let opening = valueOpenings.get(value);
  if (opening === undefined) {
    if (valueOpenings.size >= KEPT_VALUES) valueOpenings.clear();
    opening = `{"value":${JSON.stringify(value)},"count":`;
    valueOpenings.set(value, opening);
  }
  return opening;
}

/**
 * `JSON.stringify(facets)`, the same text: members in the object's order, each value's count an
 * integer. Facet names are fixed identifiers (query.ts), so they are written as they are.
 */
export function facetsJson(facets: Readonly<Partial<Record<string, readonly FacetCount[]>>>): string {
  let out = '{';
  for (const facet in facets) {
    const list = facets[facet];
    if (list === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}"${facet}":[`;
    for (let i = 0; i < list.length; i++) {
      const { value, count } = list[i] as FacetCount;
      out += `${i > 0 ? ',' : ''}${valueOpening(value)}${count}}`;
    }
    out += ']';
  }
  return `${out}}`;
}
