import { digitCount, writeDigits } from './json-bytes.js';
import { FACETS, type Facet } from './query.js';

export interface FacetCount {
  value: string;
  count: number;
}

/** What a `FacetCounts` reads of the interned facet values it was counted over. */
export interface FacetValueTable {
  /** Value id → its text. */
  valueText(id: number): string;
  /** Value id → the UTF-8 of `{"value":<its text as JSON>,"count":`, made once per value. */
  valueOpening(id: number): Uint8Array;
}

/**
 * The facet counts of one result: for each facet asked, in the order asked, its values counted above
 * zero, most frequent first (equal counts in value order), at most the limit. Held as value ids and
 * counts and read as objects (`lists`) or written as the answer's JSON bytes (`writeTo`): a page
 * answer makes no object or string per value and sorts none. Made by `FacetCounts.build`.
 */
export class FacetCounts {
  private constructor(
    private readonly table: FacetValueTable,
    private readonly facets: readonly Facet[],
    /** Facet i's values are `ids[ends[i - 1]]` (0 for the first) up to `ids[ends[i]]`. */
    private readonly ends: readonly number[],
    private readonly ids: readonly number[],
    private readonly counts: readonly number[],
  ) {}

  /** Every facet asked, no value counted. */
  static none(facets: readonly Facet[]): FacetCounts {
    return new FacetCounts(
      NO_VALUES,
      facets,
      Array.from(facets, () => 0),
      [],
      [],
    );
  }

  /**
   * The counts of `valuesOf(i)`'s values for each facet i asked (`countOf` by value id, those above
   * zero kept), ranked and cut at `limit`.
   */
  static build(
    table: FacetValueTable,
    facets: readonly Facet[],
    valuesOf: (facet: number) => readonly number[],
    countOf: (id: number) => number,
    limit: number,
  ): FacetCounts {
    const ids: number[] = [];
    const counts: number[] = [];
    const ends: number[] = [];
    for (let f = 0; f < facets.length; f++) {
      const start = ids.length;
      for (const id of valuesOf(f)) {
        const count = countOf(id);
        if (count > 0) {
          ids.push(id);
          counts.push(count);
        }
      }
      rank(table, ids, counts, start);
      if (ids.length - start > limit) {
        ids.length = start + limit;
        counts.length = start + limit;
      }
      ends.push(ids.length);
    }
    return new FacetCounts(table, facets, ends, ids, counts);
  }

  /** Each facet's values as `{ value, count }`, the object an answer's `facets` holds. */
  lists(): Partial<Record<Facet, FacetCount[]>> {
    const out: Partial<Record<Facet, FacetCount[]>> = {};
    let at = 0;
    for (let f = 0; f < this.facets.length; f++) {
      const list: FacetCount[] = [];
      const end = this.ends[f] as number;
      for (; at < end; at++) {
        list.push({ value: this.table.valueText(this.ids[at] as number), count: this.counts[at] as number });
      }
      out[this.facets[f] as Facet] = list;
    }
    return out;
  }

  /** Bytes `writeTo` writes. */
  byteLength(): number {
    let length = 2;
    let at = 0;
    for (let f = 0; f < this.facets.length; f++) {
      length += (f > 0 ? 1 : 0) + (FACET_OPEN.get(this.facets[f] as Facet) as Uint8Array).length + 1;
      const end = this.ends[f] as number;
      for (let first = at; at < end; at++) {
        length += (at > first ? 1 : 0) + this.table.valueOpening(this.ids[at] as number).length;
        length += digitCount(this.counts[at] as number) + 1;
      }
    }
    return length;
  }

  /**
   * Writes the UTF-8 of `JSON.stringify(this.lists())` into `out` at `at`, without the objects or a
   * string: each value's opening is the table's bytes, each count its digits. Returns the bytes
   * written (`byteLength`).
   */
  writeTo(out: Uint8Array, at: number): number {
    let p = at;
    out[p++] = OPEN_BRACE;
    let v = 0;
    for (let f = 0; f < this.facets.length; f++) {
      if (f > 0) out[p++] = COMMA;
      const open = FACET_OPEN.get(this.facets[f] as Facet) as Uint8Array;
      out.set(open, p);
      p += open.length;
      const end = this.ends[f] as number;
      for (let first = v; v < end; v++) {
        if (v > first) out[p++] = COMMA;
        const opening = this.table.valueOpening(this.ids[v] as number);
        out.set(opening, p);
        p += opening.length;
        p += writeDigits(out, p, this.counts[v] as number);
        out[p++] = CLOSE_BRACE;
      }
      out[p++] = CLOSE_BRACKET;
    }
    out[p++] = CLOSE_BRACE;
    return p - at;
  }
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
/** `"<facet>":[` of each facet: names are fixed identifiers (query.ts), written as they are. */
const FACET_OPEN = new Map<Facet, Uint8Array>(FACETS.map((f) => [f, Buffer.from(`"${f}":[`)]));

const NO_VALUES: FacetValueTable = {
  valueText: () => '',
  valueOpening: () => new Uint8Array(0),
};

/** Whether value a (counted `ca`) ranks before value b (counted `cb`): more first, then by text. */
function before(table: FacetValueTable, a: number, ca: number, b: number, cb: number): boolean {
  return ca > cb || (ca === cb && table.valueText(a) < table.valueText(b));
}

/**
 * Ranks the values from `start` on, in place: by insertion where they are few (a provider's or a
 * category's dozen, nearly every facet), otherwise through a sort of their places.
 */
function rank(table: FacetValueTable, ids: number[], counts: number[], start: number): void {
  const n = ids.length - start;
  if (n <= 24) {
    for (let i = start + 1; i < ids.length; i++) {
      const id = ids[i] as number;
      const count = counts[i] as number;
      let j = i;
      while (j > start && before(table, id, count, ids[j - 1] as number, counts[j - 1] as number)) {
        ids[j] = ids[j - 1] as number;
        counts[j] = counts[j - 1] as number;
        j--;
      }
      ids[j] = id;
      counts[j] = count;
    }
    return;
  }
  const places = Array.from({ length: n }, (_, i) => start + i);
  places.sort((x, y) => {
    const cx = counts[x] as number;
    const cy = counts[y] as number;
    if (cx !== cy) return cy - cx;
    const tx = table.valueText(ids[x] as number);
    const ty = table.valueText(ids[y] as number);
    return tx < ty ? -1 : tx > ty ? 1 : 0;
  });
  const rankedIds = places.map((p) => ids[p] as number);
  const rankedCounts = places.map((p) => counts[p] as number);
  for (let i = 0; i < n; i++) {
    ids[start + i] = rankedIds[i] as number;
    counts[start + i] = rankedCounts[i] as number;
  }
}
