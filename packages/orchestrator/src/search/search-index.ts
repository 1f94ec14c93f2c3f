import type { ComponentDefinition } from '@nestor/sdk';
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

export class SearchIndex {
  private readonly slotOf = new Map<string, number>();
  private readonly slotName: string[] = [];
  /** Slots sorted by name. */
  private readonly nameOrder: number[] = [];
  /** slot → position in `nameOrder`; rebuilt when a name is added. */
  private rank = new Int32Array(0);
  private rankDirty = false;
  /** doc → the definition it indexes, undefined when the doc does not exist. */
  private readonly docs: (ComponentDefinition | undefined)[] = [];
  /** doc → `Date.parse(updated_at)`. */
  private updated = new Float64Array(0);
  /** doc → interned facet value ids. */
  private readonly docValues: (Int32Array | undefined)[] = [];
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
  /** value id → sorted doc ids holding it. */
  private readonly valueDocs: number[][] = [];
  /** Sorted doc ids whose version is orphaned. */
  private readonly orphanedDocs: number[] = [];
  /** value id → number of docs holding it, per view. */
  private readonly viewCount: [number[], number[]] = [[], []];
  // Scratch space of a query (queries run synchronously, one at a time).
  private wordBest = new Float64Array(0);
  private score = new Float64Array(0);
  private matched = new Uint8Array(0);
  private mark = new Uint8Array(0);
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

  query(q: IndexQuery): IndexResult {
    const filtered = this.filter(q.filters, q.view, q.orphaned === true);
    let hits: { doc: number; score: number }[] | null = null;
    let all: number[] | null = null;
    if (q.words.length > 0) {
      hits = this.searchWords(q.words, q.phrase, q.view, filtered);
    } else {
      all = filtered;
    }
    const total = hits ? hits.length : all ? all.length : this.size;
    const facets: Partial<Record<Facet, FacetCount[]>> =
      q.facets.length === 0
        ? {}
        : hits || all
          ? this.countFacets(hits ? hits.map((h) => h.doc) : (all as number[]), q.facets, q.facetLimit)
          : this.viewFacets(q.view, q.facets, q.facetLimit);
    const sort = q.sort === 'relevance' && !hits ? 'name' : q.sort;
    let page: { doc: number; score: number }[];
    let more: boolean;
    if (sort === 'name') {
      ({ page, more } = this.byName(hits ?? all, q.view, q.after, q.limit));
    } else {
      const pool = hits ?? (all ?? this.viewDocs(q.view)).map((doc) => ({ doc, score: 0 }));
      const cmp = sort === 'updated' ? this.byUpdated : this.byScore;
      const ranked = topK(pool, q.offset + q.limit, cmp);
      page = ranked.slice(q.offset, q.offset + q.limit);
      more = q.offset + q.limit < pool.length;
    }
    return {
      hits: page.map((h) => ({ component: this.docs[h.doc] as ComponentDefinition, score: h.score })),
      more,
      total,
      facets,
    };
  }

  // --- documents

  private slotFor(name: string): number {
    let slot = this.slotOf.get(name);
    if (slot === undefined) {
      slot = this.slotName.length;
      this.slotOf.set(name, slot);
      this.slotName.push(name);
      let lo = 0;
      let hi = this.nameOrder.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((this.slotName[this.nameOrder[mid] as number] as string) < name) lo = mid + 1;
        else hi = mid;
      }
      this.nameOrder.splice(lo, 0, slot);
      this.rankDirty = true;
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
    this.wordBest = new Float64Array(cap);
    this.score = new Float64Array(cap);
    this.matched = new Uint8Array(cap);
    this.mark = new Uint8Array(cap);
  }

  private setDoc(doc: number, def: ComponentDefinition | undefined): void {
    const old = this.docs[doc];
    if (old === def) return;
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
    const ids: number[] = [];
    for (const [facet, value] of facetValues(def)) {
      const id = this.internValue(facet, value);
      ids.push(id);
      insertSorted(this.valueDocs[id] as number[], doc);
    }
    this.docValues[doc] = Int32Array.from(ids);
    if (def.orphaned) insertSorted(this.orphanedDocs, doc);
    this.updated[doc] = Date.parse(def.updated_at) || 0;
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
    return view === 1 && this.docs[2 * slot + 1] ? 2 * slot + 1 : 2 * slot;
  }

  private inView(doc: number, view: View): boolean {
    if (this.docs[doc] === undefined) return false;
    if (doc % 2 === 1) return view === 1;
    return view === 0 || this.docs[doc + 1] === undefined;
  }

  private viewDocs(view: View): number[] {
    const out: number[] = [];
    for (const slot of this.nameOrder) if (this.docs[2 * slot]) out.push(this.viewDoc(slot, view));
    return out;
  }

  // --- queries

  /** Docs of the view passing every filter, sorted by doc id; null when nothing filters. */
  private filter(filters: readonly Filter[], view: View, orphaned: boolean): number[] | null {
    if (filters.length === 0 && !orphaned) return null;
    const lists: number[][] = orphaned ? [this.orphanedDocs] : [];
    for (const f of filters) {
      const id = this.valueId.get(`${f.facet}\u0000${f.value}`);
      if (id === undefined) return [];
      lists.push(this.valueDocs[id] as number[]);
    }
    lists.sort((a, b) => a.length - b.length);
    let acc = (lists[0] as number[]).filter((doc) => this.inView(doc, view));
    for (let i = 1; i < lists.length && acc.length > 0; i++) acc = intersect(acc, lists[i] as number[]);
    return acc;
  }

  /** Every doc matching at least one word, with its score; restricted to `filtered` when given. */
  private searchWords(
    words: readonly string[],
    phrase: string,
    view: View,
    filtered: number[] | null,
  ): { doc: number; score: number }[] {
    const touched: number[] = [];
    const wordTouched: number[] = [];
    for (const word of words) {
      for (const [term, quality] of this.expand(word)) {
        for (const entry of this.postings.get(term) as number[]) {
          const doc = entry >> 2;
          const weight = (GROUP_WEIGHT[entry & 3] as number) * quality;
          const best = this.wordBest[doc] as number;
          if (best === 0) wordTouched.push(doc);
          if (weight > best) this.wordBest[doc] = weight;
        }
      }
      for (const doc of wordTouched) {
        if (this.matched[doc] === 0) touched.push(doc);
        this.matched[doc] = (this.matched[doc] as number) + 1;
        this.score[doc] = (this.score[doc] as number) + (this.wordBest[doc] as number);
        this.wordBest[doc] = 0;
      }
      wordTouched.length = 0;
    }
    if (filtered) for (const doc of filtered) this.mark[doc] = 1;
    const hits: { doc: number; score: number }[] = [];
    for (const doc of touched) {
      if ((filtered ? this.mark[doc] === 1 : true) && this.inView(doc, view)) {
        let score = (this.matched[doc] as number) * WORD_MATCH + (this.score[doc] as number);
        if (phrase !== '' && foldText((this.docs[doc] as ComponentDefinition).name) === phrase) score += EXACT_NAME;
        hits.push({ doc, score: Math.round(score * 100) / 100 });
      }
      this.matched[doc] = 0;
      this.score[doc] = 0;
    }
    if (filtered) for (const doc of filtered) this.mark[doc] = 0;
    return hits;
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

  private byName(
    docs: { doc: number; score: number }[] | number[] | null,
    view: View,
    after: string,
    limit: number,
  ): { page: { doc: number; score: number }[]; more: boolean } {
    const page: { doc: number; score: number }[] = [];
    let start = 0;
    if (after !== '') {
      let lo = 0;
      let hi = this.nameOrder.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((this.slotName[this.nameOrder[mid] as number] as string) <= after) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    if (docs === null) {
      for (let i = start; i < this.nameOrder.length; i++) {
        const slot = this.nameOrder[i] as number;
        if (!this.docs[2 * slot]) continue;
        if (page.length === limit) return { page, more: true };
        page.push({ doc: this.viewDoc(slot, view), score: 0 });
      }
      return { page, more: false };
    }
    const entries = docs.map((d) => (typeof d === 'number' ? { doc: d, score: 0 } : d));
    this.refreshRank();
    const rank = this.rank;
    const after_ = start;
    const rest = entries.filter((e) => (rank[e.doc >> 1] as number) >= after_);
    const sorted = topK(rest, limit + 1, (a, b) => (rank[a.doc >> 1] as number) - (rank[b.doc >> 1] as number));
    return { page: sorted.slice(0, limit), more: rest.length > limit };
  }

  private refreshRank(): void {
    if (!this.rankDirty && this.rank.length >= this.slotName.length) return;
    const rank = new Int32Array(Math.max(this.slotName.length, 1));
    this.nameOrder.forEach((slot, i) => {
      rank[slot] = i;
    });
    this.rank = rank;
    this.rankDirty = false;
  }

  private readonly byScore = (a: { doc: number; score: number }, b: { doc: number; score: number }): number =>
    b.score - a.score || this.nameCmp(a.doc, b.doc);

  private readonly byUpdated = (a: { doc: number }, b: { doc: number }): number =>
    (this.updated[b.doc] as number) - (this.updated[a.doc] as number) || this.nameCmp(a.doc, b.doc);

  private nameCmp(a: number, b: number): number {
    const x = this.slotName[a >> 1] as string;
    const y = this.slotName[b >> 1] as string;
    return x < y ? -1 : x > y ? 1 : 0;
  }

  private countFacets(docs: readonly number[], facets: readonly Facet[], limit: number) {
    const seen: number[] = [];
    for (const doc of docs) {
      for (const id of this.docValues[doc] as Int32Array) {
        if (this.counts[id] === 0) seen.push(id);
        this.counts[id] = (this.counts[id] as number) + 1;
      }
    }
    const out = this.facetLists(seen, (id) => this.counts[id] as number, facets, limit);
    for (const id of seen) this.counts[id] = 0;
    return out;
  }

  private viewFacets(view: View, facets: readonly Facet[], limit: number) {
    const counts = this.viewCount[view];
    const ids: number[] = [];
    for (let id = 0; id < counts.length; id++) if ((counts[id] as number) > 0) ids.push(id);
    return this.facetLists(ids, (id) => counts[id] as number, facets, limit);
  }

  private facetLists(ids: number[], countOf: (id: number) => number, facets: readonly Facet[], limit: number) {
    const out: Partial<Record<Facet, FacetCount[]>> = {};
    for (const facet of facets) out[facet] = [];
    const wanted = new Set(facets.map((f) => FACET_INDEX.get(f) as number));
    for (const id of ids) {
      const f = this.valueFacet[id] as number;
      if (!wanted.has(f)) continue;
      (out[FACETS[f] as Facet] as FacetCount[]).push({ value: this.valueText[id] as string, count: countOf(id) });
    }
    for (const facet of facets) {
      const list = out[facet] as FacetCount[];
      list.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
      if (list.length > limit) list.length = limit;
    }
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

/** Sorted intersection; `small` is the shorter list (gallops through the longer one). */
function intersect(small: readonly number[], large: readonly number[]): number[] {
  const out: number[] = [];
  let lo = 0;
  for (const v of small) {
    let hi = large.length;
    let l = lo;
    while (l < hi) {
      const mid = (l + hi) >> 1;
      if ((large[mid] as number) < v) l = mid + 1;
      else hi = mid;
    }
    lo = l;
    if (lo >= large.length) break;
    if (large[lo] === v) out.push(v);
  }
  return out;
}

/** The first `k` items of `items` in `cmp` order (a bounded heap when k is small). */
function topK<T>(items: readonly T[], k: number, cmp: (a: T, b: T) => number): T[] {
  if (k <= 0) return [];
  if (k * 4 >= items.length) return [...items].sort(cmp).slice(0, k);
  // Max-heap (by cmp) of the best k so far.
  const heap: T[] = [];
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (cmp(heap[i] as T, heap[p] as T) <= 0) return;
      [heap[i], heap[p]] = [heap[p] as T, heap[i] as T];
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && cmp(heap[l] as T, heap[m] as T) > 0) m = l;
      if (r < heap.length && cmp(heap[r] as T, heap[m] as T) > 0) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m] as T, heap[i] as T];
      i = m;
    }
  };
  for (const item of items) {
    if (heap.length < k) {
      heap.push(item);
      up(heap.length - 1);
    } else if (cmp(item, heap[0] as T) < 0) {
      heap[0] = item;
      down(0);
    }
  }
  return heap.sort(cmp);
}
