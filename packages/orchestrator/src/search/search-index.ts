import type { ComponentDefinition } from '@nestor/sdk';
import { NameOrder } from './name-order.js';
import type { Facet, Filter } from './query.js';
import { FACETS } from './query.js';
import { deletions, foldText, tokenize, withinOneEdit } from './text.js';

/**
 * The in-memory index behind list and search: one entry per component name holding its two picks
 * (the latest as `getLatestComponent` chooses it, and the highest version including prereleases),
 * an inverted index of words with the field group each word was found in, per-value posting lists
 * for the facet fields, and a deletion index for one-typo matches. Everything a request needs is
 * answered from these structures: a filter intersects posting lists, a word unions the postings of
 * its expansions, and facet counts walk the result once (or read maintained counts when nothing
 * filters), so the cost follows the result, never the catalog.
 *
 * Documents: name slot `s` has doc `2s` (its latest) and, when its highest version differs from
 * the latest, doc `2s + 1`. View 0 (stable) is every `2s`; view 1 (with prereleases) is `2s + 1`
 * where it exists and `2s` elsewhere.
 */

/** Field groups in rank order (DESIGN.md 10.10). */
const NAME = 0;
const META = 1; // resource_type, category, provider
const ATTRS = 2; // label keys and values, input and output names
const DESCRIPTION = 3;
const GROUP_WEIGHT = [1000, 100, 10, 1];
const EXACT = 1;
const PREFIX = 0.8;
const TYPO = 0.6;
const QUALITIES = [EXACT, PREFIX, TYPO];
/**
 * Every weight a word can add (field group weight × match quality) in ascending order: a doc's best
 * match for a word is kept as a one-byte code into this table, which orders as the weights do.
 */
const WEIGHTS = Float64Array.from(
  [0, ...GROUP_WEIGHT.flatMap((g) => QUALITIES.map((q) => g * q))].sort((a, b) => a - b),
);
/** quality → group → code into `WEIGHTS`. */
const WEIGHT_CODE = new Map<number, Uint8Array>(
  QUALITIES.map((q) => [q, Uint8Array.from(GROUP_WEIGHT, (g) => WEIGHTS.indexOf(g * q))]),
);
/** Added per query word a document matches: every-word matches rank above some-word ones. */
const WORD_MATCH = 1_000_000;
/** Added when the free text is exactly the component's name. */
const EXACT_NAME = 100_000;
/** Words at least this long also match with one typo. */
const TYPO_MIN_LENGTH = 5;
const DELETION_MIN = TYPO_MIN_LENGTH - 1;
const DELETION_MAX = 32;

/** 0: stable (latest) view; 1: prereleases included. */
export type View = 0 | 1;
export type SortOrder = 'relevance' | 'name' | 'updated';

export interface IndexQuery {
  view: View;
  words: readonly string[];
  phrase: string;
  filters: readonly Filter[];
  /** Only docs whose version is orphaned (not a facet: it is never counted). */
  orphaned?: boolean | undefined;
  sort: SortOrder;
  /** Name order: the page starts after this name (''). Other orders: the offset. */
  after: string;
  offset: number;
  limit: number;
  facets: readonly Facet[];
  /** At most this many values per facet, most frequent first. */
  facetLimit: number;
}

interface IndexHit {
  component: ComponentDefinition;
  score: number;
}

export interface FacetCount {
  value: string;
  count: number;
}

export interface IndexResult {
  hits: IndexHit[];
  /** True when results follow the page. */
  more: boolean;
  total: number;
  facets: Partial<Record<Facet, FacetCount[]>>;
}

const FACET_INDEX = new Map<Facet, number>(FACETS.map((f, i) => [f, i]));

const ENGINE_FACET = FACET_INDEX.get('engine') as number;
/** The facets a version has exactly one value of, in the order `facetValues` lists them first. */
const SINGLE_FACETS: readonly Facet[] = ['provider', 'category', 'resource_type', 'maturity', 'support_level'];
const SINGLE = SINGLE_FACETS.length;
const SINGLE_COLUMN = new Map<number, number>(SINGLE_FACETS.map((f, i) => [FACET_INDEX.get(f) as number, i]));

export class SearchIndex {
  private readonly slotOf = new Map<string, number>();
  private readonly slotName: string[] = [];
  /** Slots in name order, with a label per slot that compares as the names do. */
  private readonly order = new NameOrder((slot) => this.slotName[slot] as string);
  /** Folded name → slots holding it: the names a query's free text can equal. */
  private readonly slotsByFold = new Map<string, number[]>();
  /** doc → the definition it indexes, undefined when the doc does not exist. */
  private readonly docs: (ComponentDefinition | undefined)[] = [];
  /** doc → 1 when it exists (`docs[doc]` is defined), for tight loops. */
  private present = new Uint8Array(0);
  /** doc → `Date.parse(updated_at)`. */
  private updated = new Float64Array(0);
  /** doc → interned facet value ids (single-valued facets, then engines, then labels). */
  private readonly docValues: (Int32Array | undefined)[] = [];
  /**
   * The same ids laid out flat for counting: `doc * SINGLE + column` for the single-valued facets,
   * `doc * engineStride + i` for engines (-1 after the last). Counting a facet over a result is then
   * a pass over one typed array rather than a walk through every doc's own list.
   */
  private single = new Int32Array(0);
  private engines = new Int32Array(0);
  private engineStride = 2;
  /** word → postings (`doc * 4 + group`, the doc's best group for the word), unordered. */
  private readonly postings = new Map<string, number[]>();
  /** Every word ever indexed, sorted (prefix ranges). */
  private readonly words: string[] = [];
  /** one-character deletion of a word → words that yield it (one-typo candidates). */
  private readonly deletionsOf = new Map<string, string[]>();
  /** `facet\0value` → id. */
  private readonly valueId = new Map<string, number>();
  private readonly valueFacet: number[] = [];
  private readonly valueText: string[] = [];
  /** facet → ids of its values. */
  private readonly facetIds: number[][] = FACETS.map(() => []);
  /** value id → sorted doc ids holding it. */
  private readonly valueDocs: number[][] = [];
  /** Sorted doc ids whose version is orphaned. */
  private readonly orphanedDocs: number[] = [];
  /** value id → number of docs holding it, per view. */
  private readonly viewCount: [number[], number[]] = [[], []];
  // Scratch space of a query (queries run synchronously, one at a time): per-doc arrays left all
  // zero between queries, and doc lists filled from the start.
  /** doc → code into `WEIGHTS` of its best match for the word being searched (0: none). */
  private wordBest = new Uint8Array(0);
  private score = new Float64Array(0);
  private matched = new Uint8Array(0);
  /** Bit 1: in the filtered set; bit 2: named exactly as the free text; bit 4: in the result. */
  private mark = new Uint8Array(0);
  private touched = new Int32Array(0);
  private wordTouched = new Int32Array(0);
  private hitDocs = new Int32Array(0);
  private filtered = new Int32Array(0);
  private counts = new Int32Array(0);

  /** Number of names. */
  get size(): number {
    return this.slotName.length - this.removedSlots;
  }
  private removedSlots = 0;

  clear(): void {
    for (const name of [...this.slotOf.keys()]) this.remove(name);
  }

  /** Indexes a name at its picks, replacing what it held. */
  upsert(latest: ComponentDefinition, highest: ComponentDefinition): void {
    const slot = this.slotFor(latest.name);
    this.count(slot, -1);
    this.setDoc(2 * slot, latest);
    this.setDoc(2 * slot + 1, highest.version === latest.version ? undefined : highest);
    this.count(slot, 1);
  }

  /** Drops a name (it has no listable version left). */
  remove(name: string): void {
    const slot = this.slotOf.get(name);
    if (slot === undefined || this.docs[2 * slot] === undefined) return;
    this.count(slot, -1);
    this.setDoc(2 * slot, undefined);
    this.setDoc(2 * slot + 1, undefined);
    this.removedSlots++;
  }

  /** The picks held for a name. */
  picks(name: string): { latest: ComponentDefinition; highest: ComponentDefinition } | null {
    const slot = this.slotOf.get(name);
    if (slot === undefined) return null;
    const latest = this.docs[2 * slot];
    if (!latest) return null;
    return { latest, highest: this.docs[2 * slot + 1] ?? latest };
  }

  /**
   * Per-doc work is done on typed arrays and doc ids; objects are made for the page alone, so a
   * word matching most of the catalog (`p`, `aws`) costs passes over its postings, not allocations.
   */
  query(q: IndexQuery): IndexResult {
    const filtered = this.filter(q.filters, q.view, q.orphaned === true);
    const searching = q.words.length > 0;
    let docs: Int32Array | null = null;
    let n = this.size;
    if (searching) {
      n = this.searchWords(q.words, q.phrase, q.view, filtered);
      docs = this.hitDocs;
    } else if (filtered >= 0) {
      docs = this.filtered;
      n = filtered;
    }
    try {
      const facets: Partial<Record<Facet, FacetCount[]>> =
        q.facets.length === 0
          ? {}
          : docs
            ? this.countFacets(docs, n, q.view, q.facets, q.facetLimit)
            : this.viewFacets(q.view, q.facets, q.facetLimit);
      const sort = q.sort === 'relevance' && !searching ? 'name' : q.sort;
      let page: number[];
      let more: boolean;
      if (sort === 'name') {
        ({ page, more } = this.byName(docs, n, q.view, q.after, q.limit));
      } else {
        const pool = docs ?? this.viewDocs(q.view);
        const key = sort === 'updated' ? this.updated : this.score;
        page = topDocs(pool, n, q.offset + q.limit, key, this.order.labelArray).slice(q.offset);
        more = q.offset + q.limit < n;
      }
      return {
        hits: page.map((doc) => ({
          component: this.docs[doc] as ComponentDefinition,
          score: searching ? (this.score[doc] as number) : 0,
        })),
        more,
        total: n,
        facets,
      };
    } finally {
      if (searching) for (let i = 0; i < n; i++) this.score[this.hitDocs[i] as number] = 0;
    }
  }

  // --- documents

  private slotFor(name: string): number {
    let slot = this.slotOf.get(name);
    if (slot === undefined) {
      slot = this.slotName.length;
      this.slotOf.set(name, slot);
      this.slotName.push(name);
      this.order.insert(slot);
      const fold = foldText(name);
      const same = this.slotsByFold.get(fold);
      if (same) same.push(slot);
      else this.slotsByFold.set(fold, [slot]);
      this.grow(2 * slot + 2);
    } else if (this.docs[2 * slot] === undefined) {
      this.removedSlots--;
    }
    return slot;
  }

  private grow(docs: number): void {
    if (docs <= this.updated.length) return;
    const cap = Math.max(docs, this.updated.length * 2, 64);
    const updated = new Float64Array(cap);
    updated.set(this.updated);
    this.updated = updated;
    const present = new Uint8Array(cap);
    present.set(this.present);
    this.present = present;
    const single = new Int32Array(cap * SINGLE);
    single.set(this.single);
    this.single = single;
    const engines = new Int32Array(cap * this.engineStride).fill(-1);
    engines.set(this.engines);
    this.engines = engines;
    this.wordBest = new Uint8Array(cap);
    this.score = new Float64Array(cap);
    this.matched = new Uint8Array(cap);
    this.mark = new Uint8Array(cap);
    this.touched = new Int32Array(cap);
    this.wordTouched = new Int32Array(cap);
    this.hitDocs = new Int32Array(cap);
    this.filtered = new Int32Array(cap);
  }

  private setDoc(doc: number, def: ComponentDefinition | undefined): void {
    const old = this.docs[doc];
    if (old === def) return;
    this.present[doc] = def ? 1 : 0;
    if (old && def && old.version === def.version && old.revision === def.revision && old.digest === def.digest) {
      this.docs[doc] = def;
      return;
    }
    if (old) this.unindex(doc, old);
    this.docs[doc] = def;
    if (def) this.index(doc, def);
  }

  private index(doc: number, def: ComponentDefinition): void {
    for (const [word, group] of documentWords(def)) {
      let list = this.postings.get(word);
      if (!list) {
        list = [];
        this.postings.set(word, list);
        this.addWord(word);
      }
      list.push(doc * 4 + group);
    }
    const values = facetValues(def);
    const ids = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const [facet, value] = values[i] as [Facet, string];
      const id = this.internValue(facet, value);
      ids[i] = id;
      insertSorted(this.valueDocs[id] as number[], doc);
    }
    this.docValues[doc] = ids;
    this.layOut(doc, ids);
    if (def.orphaned) insertSorted(this.orphanedDocs, doc);
    this.updated[doc] = Date.parse(def.updated_at) || 0;
  }

  private layOut(doc: number, ids: Int32Array): void {
    let engineCount = 0;
    for (const id of ids) if (this.valueFacet[id] === ENGINE_FACET) engineCount++;
    if (engineCount > this.engineStride) this.widenEngines(engineCount);
    const stride = this.engineStride;
    this.engines.fill(-1, doc * stride, doc * stride + stride);
    let e = doc * stride;
    for (const id of ids) {
      const f = this.valueFacet[id] as number;
      const column = SINGLE_COLUMN.get(f);
      if (column !== undefined) this.single[doc * SINGLE + column] = id;
      else if (f === ENGINE_FACET) this.engines[e++] = id;
    }
  }

  private widenEngines(stride: number): void {
    const old = this.engineStride;
    const docs = this.engines.length / old;
    const engines = new Int32Array(docs * stride).fill(-1);
    for (let doc = 0; doc < docs; doc++) {
      for (let i = 0; i < old; i++) engines[doc * stride + i] = this.engines[doc * old + i] as number;
    }
    this.engines = engines;
    this.engineStride = stride;
  }

  private unindex(doc: number, def: ComponentDefinition): void {
    for (const [word, group] of documentWords(def)) {
      const list = this.postings.get(word);
      if (!list) continue;
      const at = list.indexOf(doc * 4 + group);
      if (at === -1) continue;
      list[at] = list[list.length - 1] as number;
      list.pop();
    }
    for (const id of this.docValues[doc] ?? []) removeSorted(this.valueDocs[id] as number[], doc);
    if (def.orphaned) removeSorted(this.orphanedDocs, doc);
    this.docValues[doc] = undefined;
  }

  private addWord(word: string): void {
    this.words.splice(lowerBound(this.words, word), 0, word);
    if (word.length < DELETION_MIN || word.length > DELETION_MAX) return;
    for (const d of deletions(word)) {
      const list = this.deletionsOf.get(d);
      if (list) list.push(word);
      else this.deletionsOf.set(d, [word]);
    }
  }

  private internValue(facet: Facet, value: string): number {
    const key = `${facet}\u0000${value}`;
    let id = this.valueId.get(key);
    if (id === undefined) {
      id = this.valueText.length;
      this.valueId.set(key, id);
      this.valueFacet.push(FACET_INDEX.get(facet) as number);
      (this.facetIds[FACET_INDEX.get(facet) as number] as number[]).push(id);
      this.valueText.push(value);
      this.valueDocs.push([]);
      this.viewCount[0].push(0);
      this.viewCount[1].push(0);
      if (this.counts.length <= id) {
        const counts = new Int32Array(Math.max(64, this.counts.length * 2));
        counts.set(this.counts);
        this.counts = counts;
      }
    }
    return id;
  }

  /** Adds (or takes away) a slot's docs to the per-view facet counts. */
  private count(slot: number, delta: 1 | -1): void {
    const latest = this.docValues[2 * slot];
    if (!latest || !this.docs[2 * slot]) return;
    const highest = this.docs[2 * slot + 1] ? (this.docValues[2 * slot + 1] as Int32Array) : latest;
    const [stable, all] = this.viewCount;
    for (const id of latest) stable[id] = (stable[id] as number) + delta;
    for (const id of highest) all[id] = (all[id] as number) + delta;
  }

  private viewDoc(slot: number, view: View): number {
    return view === 1 && this.present[2 * slot + 1] === 1 ? 2 * slot + 1 : 2 * slot;
  }

  private inView(doc: number, view: View): boolean {
    if (this.present[doc] === 0) return false;
    if ((doc & 1) === 1) return view === 1;
    return view === 0 || this.present[doc + 1] === 0;
  }

  private viewDocs(view: View): Int32Array {
    const out = new Int32Array(this.size);
    let n = 0;
    for (let slot = 0; slot < this.slotName.length; slot++)
      if (this.present[2 * slot]) out[n++] = this.viewDoc(slot, view);
    return out;
  }

  // --- queries

  /**
   * Docs of the view passing every filter (and only orphaned ones when `orphaned`), sorted by doc
   * id, into `filtered`; returns how many, or -1 when nothing filters. Lists are intersected before
   * the view is applied to what is left.
   */
  private filter(filters: readonly Filter[], view: View, orphaned: boolean): number {
    if (filters.length === 0 && !orphaned) return -1;
    const lists: number[][] = orphaned ? [this.orphanedDocs] : [];
    for (const f of filters) {
      const id = this.valueId.get(`${f.facet}\u0000${f.value}`);
      if (id === undefined) return 0;
      lists.push(this.valueDocs[id] as number[]);
    }
    lists.sort((a, b) => a.length - b.length);
    const out = this.filtered;
    const first = lists[0] as number[];
    let n = first.length;
    for (let i = 0; i < n; i++) out[i] = first[i] as number;
    for (let l = 1; l < lists.length && n > 0; l++) n = intersectInto(out, n, lists[l] as number[]);
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const doc = out[i] as number;
      if (this.inView(doc, view)) out[kept++] = doc;
    }
    return kept;
  }

  /**
   * Every doc matching at least one word, restricted to the first `filtered` of `filtered` unless
   * that is -1: fills `hitDocs`
   * and leaves each hit's score in `score` (the caller zeroes them). Returns the number of hits.
   */
  private searchWords(words: readonly string[], phrase: string, view: View, filtered: number): number {
    const { wordBest, matched, score, mark, touched, wordTouched, hitDocs } = this;
    let touchedCount = 0;
    const docCount = 2 * this.slotName.length;
    for (const word of words) {
      let wordCount = 0;
      for (const [term, quality] of this.expand(word)) {
        const code = WEIGHT_CODE.get(quality) as Uint8Array;
        const list = this.postings.get(term) as number[];
        for (let i = 0; i < list.length; i++) {
          const entry = list[i] as number;
          const doc = entry >> 2;
          const c = code[entry & 3] as number;
          const best = wordBest[doc] as number;
          if (best === 0) wordTouched[wordCount++] = doc;
          if (c > best) wordBest[doc] = c;
        }
      }
      // Many docs are visited in doc order (a pass over the codes) rather than in the order the
      // postings reached them, so the per-doc arrays are read in order, not all over.
      const inOrder = wordCount * 8 > docCount;
      let next = 0;
      for (let i = 0; i < wordCount; i++) {
        let doc: number;
        if (inOrder) {
          while (wordBest[next] === 0) next++;
          doc = next++;
        } else {
          doc = wordTouched[i] as number;
        }
        if (matched[doc] === 0) touched[touchedCount++] = doc;
        matched[doc] = (matched[doc] as number) + 1;
        score[doc] = (score[doc] as number) + (WEIGHTS[wordBest[doc] as number] as number);
        wordBest[doc] = 0;
      }
    }
    const only = this.filtered;
    for (let i = 0; i < filtered; i++) mark[only[i] as number] = 1;
    const exact = phrase === '' ? undefined : this.slotsByFold.get(phrase);
    if (exact) for (const slot of exact) mark[2 * slot] = (mark[2 * slot] as number) | 2;
    if (exact) for (const slot of exact) mark[2 * slot + 1] = (mark[2 * slot + 1] as number) | 2;
    let n = 0;
    // Many hits are gathered in doc order, by a pass over the per-doc counts: the passes that follow
    // (facets, ranking, clearing) then read their per-doc arrays in order rather than all over.
    const inOrder = touchedCount * 8 > docCount;
    let next = 0;
    for (let i = 0; i < touchedCount; i++) {
      let doc: number;
      if (inOrder) {
        while (matched[next] === 0) next++;
        doc = next++;
      } else {
        doc = touched[i] as number;
      }
      if ((filtered < 0 || ((mark[doc] as number) & 1) === 1) && this.inView(doc, view)) {
        let s = (matched[doc] as number) * WORD_MATCH + (score[doc] as number);
        if (((mark[doc] as number) & 2) === 2) s += EXACT_NAME;
        score[doc] = Math.round(s * 100) / 100;
        hitDocs[n++] = doc;
      } else {
        score[doc] = 0;
      }
      matched[doc] = 0;
    }
    for (let i = 0; i < filtered; i++) mark[only[i] as number] = 0;
    if (exact) for (const slot of exact) mark[2 * slot] = mark[2 * slot + 1] = 0;
    return n;
  }

  /** The indexed words a query word matches, with the quality of the match. */
  private expand(word: string): Map<string, number> {
    const out = new Map<string, number>();
    if (this.postings.has(word)) out.set(word, EXACT);
    for (let i = lowerBound(this.words, word); i < this.words.length; i++) {
      const w = this.words[i] as string;
      if (!w.startsWith(word)) break;
      if (!out.has(w)) out.set(w, PREFIX);
    }
    if (word.length >= TYPO_MIN_LENGTH) {
      const candidates = new Set<string>(this.deletionsOf.get(word) ?? []);
      for (const d of deletions(word)) {
        if (this.postings.has(d)) candidates.add(d);
        for (const w of this.deletionsOf.get(d) ?? []) candidates.add(w);
      }
      for (const w of candidates) if (!out.has(w) && withinOneEdit(word, w)) out.set(w, TYPO);
    }
    return out;
  }

  /** A page in name order after `after`: of `docs` (the first `n`), or of the whole view. */
  private byName(
    docs: Int32Array | null,
    n: number,
    view: View,
    after: string,
    limit: number,
  ): { page: number[]; more: boolean } {
    const start = after === '' ? 0 : this.order.after(after);
    const page: number[] = [];
    if (docs === null) {
      for (let i = start; i < this.order.length; i++) {
        const slot = this.order.at(i);
        if (this.present[2 * slot] === 0) continue;
        if (page.length === limit) return { page, more: true };
        page.push(this.viewDoc(slot, view));
      }
      return { page, more: false };
    }
    if (start >= this.order.length) return { page, more: false };
    const label = this.order.labelArray;
    const from = this.order.label(this.order.at(start));
    // The query's word lists are done with: `touched` holds the docs at or after the cursor.
    const rest = this.touched;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const doc = docs[i] as number;
      if ((label[doc >> 1] as number) >= from) rest[m++] = doc;
    }
    const sorted = topDocs(rest, m, limit, null, label);
    return { page: sorted, more: m > limit };
  }

  /**
   * Exact counts of the wanted facets over the first `n` of `docs`. A result holding most of the
   * view is counted through its complement: the view's maintained counts minus what the few docs
   * outside the result hold, so a word found nearly everywhere costs a pass over the names, not
   * over every value of every hit.
   */
  private countFacets(docs: Int32Array, n: number, view: View, facets: readonly Facet[], limit: number) {
    const wanted = facets.map((f) => FACET_INDEX.get(f) as number);
    const { counts } = this;
    if (3 * n <= 2 * this.size) {
      this.countValues(wanted, docs, n);
      const out = this.facetLists(wanted, (id) => counts[id] as number, facets, limit);
      for (const f of wanted) for (const id of this.facetIds[f] as number[]) counts[id] = 0;
      return out;
    }
    const { mark, present, touched: outside } = this;
    for (let i = 0; i < n; i++) mark[docs[i] as number] = 4;
    let m = 0;
    for (let slot = 0; slot < this.slotName.length; slot++) {
      if (present[2 * slot] === 0) continue;
      const doc = this.viewDoc(slot, view);
      if (mark[doc] !== 4) outside[m++] = doc;
    }
    for (let i = 0; i < n; i++) mark[docs[i] as number] = 0;
    this.countValues(wanted, outside, m);
    const total = this.viewCount[view];
    const out = this.facetLists(wanted, (id) => (total[id] as number) - (counts[id] as number), facets, limit);
    for (const f of wanted) for (const id of this.facetIds[f] as number[]) counts[id] = 0;
    return out;
  }

  /** Adds the values of the `wanted` facets held by the first `n` of `docs` to `counts`, in one pass. */
  private countValues(wanted: readonly number[], docs: Int32Array, n: number): void {
    const { counts, single, engines, engineStride: stride, docValues, valueFacet } = this;
    const columns = Int32Array.from(
      wanted.filter((f) => SINGLE_COLUMN.has(f)),
      (f) => SINGLE_COLUMN.get(f) as number,
    );
    const columnCount = columns.length;
    const withEngines = wanted.includes(ENGINE_FACET);
    const others = wanted.filter((f) => f !== ENGINE_FACET && !SINGLE_COLUMN.has(f));
    for (let i = 0; i < n; i++) {
      const doc = docs[i] as number;
      const row = doc * SINGLE;
      for (let c = 0; c < columnCount; c++) {
        const id = single[row + (columns[c] as number)] as number;
        counts[id] = (counts[id] as number) + 1;
      }
      if (withEngines) {
        const base = doc * stride;
        for (let j = base; j < base + stride; j++) {
          const id = engines[j] as number;
          if (id < 0) break;
          counts[id] = (counts[id] as number) + 1;
        }
      }
      if (others.length > 0) {
        for (const id of docValues[doc] as Int32Array) {
          if (others.includes(valueFacet[id] as number)) counts[id] = (counts[id] as number) + 1;
        }
      }
    }
  }

  private viewFacets(view: View, facets: readonly Facet[], limit: number) {
    const counts = this.viewCount[view];
    return this.facetLists(
      facets.map((f) => FACET_INDEX.get(f) as number),
      (id) => counts[id] as number,
      facets,
      limit,
    );
  }

  /** Each wanted facet's values with a count above zero, most frequent first, at most `limit`. */
  private facetLists(wanted: number[], countOf: (id: number) => number, facets: readonly Facet[], limit: number) {
    const out: Partial<Record<Facet, FacetCount[]>> = {};
    facets.forEach((facet, i) => {
      const list: FacetCount[] = [];
      for (const id of this.facetIds[wanted[i] as number] as number[]) {
        const count = countOf(id);
        if (count > 0) list.push({ value: this.valueText[id] as string, count });
      }
      list.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
      if (list.length > limit) list.length = limit;
      out[facet] = list;
    });
    return out;
  }
}

/** The words of a version with the best field group each was found in. */
function documentWords(def: ComponentDefinition): Map<string, number> {
  const out = new Map<string, number>();
  const add = (text: string, group: number) => {
    for (const w of tokenize(text)) {
      const had = out.get(w);
      if (had === undefined || group < had) out.set(w, group);
    }
  };
  add(def.name, NAME);
  add(def.resource_type, META);
  add(def.category, META);
  add(def.provider, META);
  for (const [k, v] of Object.entries(def.labels)) {
    add(k, ATTRS);
    add(v, ATTRS);
  }
  for (const i of def.required_inputs) add(i.name, ATTRS);
  for (const i of def.optional_inputs) add(i.name, ATTRS);
  for (const o of def.outputs) add(o.name, ATTRS);
  add(def.description, DESCRIPTION);
  return out;
}

/** The facet values of a version (engines and labels may be several). */
function facetValues(def: ComponentDefinition): [Facet, string][] {
  const out: [Facet, string][] = [
    ['provider', def.provider],
    ['category', def.category],
    ['resource_type', def.resource_type],
    ['maturity', def.maturity],
    ['support_level', def.support_level],
  ];
  for (const e of new Set(def.deployment_engines)) out.push(['engine', e]);
  for (const [k, v] of Object.entries(def.labels)) out.push(['label', `${k}=${v}`]);
  return out;
}

function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as string) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function numberBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(list: number[], value: number): void {
  if (list.length === 0 || (list[list.length - 1] as number) < value) {
    list.push(value);
    return;
  }
  const at = numberBound(list, value);
  if (list[at] !== value) list.splice(at, 0, value);
}

function removeSorted(list: number[], value: number): void {
  const at = numberBound(list, value);
  if (list[at] === value) list.splice(at, 1);
}

/** Keeps the first `n` of `acc` (sorted) that `large` (sorted) holds, in place; returns how many. */
function intersectInto(acc: Int32Array, n: number, large: readonly number[]): number {
  let kept = 0;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    const v = acc[i] as number;
    let hi = large.length;
    let l = lo;
    while (l < hi) {
      const mid = (l + hi) >> 1;
      if ((large[mid] as number) < v) l = mid + 1;
      else hi = mid;
    }
    lo = l;
    if (lo >= large.length) break;
    if (large[lo] === v) acc[kept++] = v;
  }
  return kept;
}

const ZERO_KEY = new Float64Array(0);

/**
 * The first `k` of the first `n` docs of `docs`: highest `key` first (none: name order alone),
 * ties by name label. A bounded heap of doc ids: most docs are turned away by comparing their key
 * with the heap's last one.
 */
function topDocs(docs: Int32Array, n: number, k: number, key: Float64Array | null, label: Float64Array): number[] {
  if (k <= 0 || n === 0) return [];
  const keyOf = key ?? ZERO_KEY;
  const keyed = key !== null;
  const before = (a: number, b: number): boolean => {
    if (keyed) {
      const ka = keyOf[a] as number;
      const kb = keyOf[b] as number;
      if (ka !== kb) return ka > kb;
    }
    return (label[a >> 1] as number) < (label[b >> 1] as number);
  };
  // Max-heap by `before`: the root is the last of the best k so far.
  const heap: number[] = [];
  for (let i = 0; i < n; i++) {
    const doc = docs[i] as number;
    if (heap.length < k) {
      let c = heap.length;
      heap.push(doc);
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!before(heap[p] as number, heap[c] as number)) break;
        [heap[c], heap[p]] = [heap[p] as number, heap[c] as number];
        c = p;
      }
      continue;
    }
    const top = heap[0] as number;
    if (keyed && (keyOf[doc] as number) < (keyOf[top] as number)) continue;
    if (!before(doc, top)) continue;
    heap[0] = doc;
    let p = 0;
    for (;;) {
      const l = 2 * p + 1;
      const r = l + 1;
      let m = p;
      if (l < heap.length && before(heap[m] as number, heap[l] as number)) m = l;
      if (r < heap.length && before(heap[m] as number, heap[r] as number)) m = r;
      if (m === p) break;
      [heap[p], heap[m]] = [heap[m] as number, heap[p] as number];
      p = m;
    }
  }
  return heap.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
}
