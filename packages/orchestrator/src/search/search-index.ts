import type { ComponentDefinition } from '@nestor/sdk';
import { ANSWER_CHUNK_BYTES, AnswerArena } from './answer-arena.js';
import { DocValues } from './doc-values.js';
import { FacetCounts, type FacetValueTable } from './facet-counts.js';
import { NameOrder } from './name-order.js';
import { type ChunkSource, HEAP_CHUNKS } from './prefaulted-chunks.js';
import type { Facet, Filter } from './query.js';
import { FACETS } from './query.js';
import { type Arrival, arraysOf, mergeMoves, placeInPlace, type RankedArrays } from './ranked-moves.js';
import { addWords, deletions, foldText, MAX_QUERY_WORDS, withinOneEdit } from './text.js';

/**
 * The in-memory index behind list and search: one entry per component name holding its two picks
 * (the latest as `getLatestComponent` chooses it, and the highest version including prereleases),
 * an inverted index of words with the field group each word was found in, per-value posting lists
 * for the facet fields (with a bit per doc), and a deletion index for one-typo matches. Everything
 * a request needs is answered from these structures: a filter walks its shortest posting list
 * checking the others, a word's matches (the union of its expansions' postings) are made once and
 * kept, patched by each write that touches them, and facet counts walk the result once by profile (or read kept or
 * maintained counts), so the cost follows the result, never the catalog. Which plan answers a
 * query — filtered, broad (a word matching much of the catalog is never walked) or gathered doc
 * by doc — is docs/decisions.md 30.
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
 * Scores are kept in fifths: every weight is a multiple of 0.2, so in fifths each is a whole
 * number, sums are exact whatever order they are added in, and ranking compares them without
 * rounding. A score leaves the index in points, rounded to cents (`publicScore`).
 */
const FIFTHS = 5;
const weightOf = (group: number, quality: number) => Math.round(group * quality * FIFTHS);
/**
 * Every weight a word can add (field group weight × match quality, in fifths) in ascending order: a
 * doc's best match for a word is kept as a one-byte code into this table, which orders as the weights do.
 */
const WEIGHTS = Float64Array.from(
  [0, ...GROUP_WEIGHT.flatMap((g) => QUALITIES.map((q) => weightOf(g, q)))].sort((a, b) => a - b),
);
/** The most one word can add to a doc's weights. */
const BEST_WEIGHT = WEIGHTS[WEIGHTS.length - 1] as number;
/** quality → group → code into `WEIGHTS`. */
const WEIGHT_CODE = new Map<number, Uint8Array>(
  QUALITIES.map((q) => [q, Uint8Array.from(GROUP_WEIGHT, (g) => WEIGHTS.indexOf(weightOf(g, q)))]),
);
/** Added per query word a document matches: every-word matches rank above some-word ones. */
const WORD_MATCH = 1_000_000 * FIFTHS;
/** Added when the free text is exactly the component's name. */
const EXACT_NAME = 100_000 * FIFTHS;
/**
 * A hit's score in fifths: every-word matches above some-word ones, then the summed weights of its
 * matches, plus the exact-name bonus.
 */
function scoreFrom(matched: number, weights: number, exactName: boolean): number {
  return matched * WORD_MATCH + weights + (exactName ? EXACT_NAME : 0);
}

/** A score as answers carry it: in points, rounded to cents. */
function publicScore(fifths: number): number {
  return Math.round(fifths * (100 / FIFTHS)) / 100;
}

/** Above every doc id: the end of a doc list in a merge. */
const DOC_END = 0x7fffffff;

/** The most recently updated docs a word set keeps per view (a page by update time is their head). */
const RECENT_KEPT = 100;

/**
 * Heap a kept word set costs beyond its arrays' contents (the set, its array views and buffer, the
 * map entries; measured at about 640 bytes), counted against `keptBytes` so that sets holding
 * nothing still count: a stream of distinct words matching no doc would otherwise be kept without
 * bound until the next change.
 */
const WORD_SET_OVERHEAD = 640;

/**
 * Writes a kept word set is patched for without a query asking for it before it is dropped: a
 * broad set costs tens of µs a patch and tens of ms to make again, a small one about as little
 * either way, so a sync's thousands of writes cost at most this many patches of each unused set.
 */
const UNUSED_PATCHES = 256;

/**
 * Moves a ranked list holds before it is made again rather than merged: at an eighth of its docs
 * (plus this), a pass over the set costs about what the merge would, and what is held stays bounded.
 */
const PENDING_MIN = 64;
/** Heap of one pending move (a map entry and its object), roughly. */
const PENDING_BYTES = 80;

/** Heap of one of a kept set's terms (its entry in the set's terms and in `setsOfTerm`), roughly. */
const TERM_KEPT_BYTES = 96;

/** Value ids below this make a filter memo key of two values a number (`filterKey`). */
const FILTER_KEY_ID_LIMIT = 2 ** 24;
/** Combinations asked once that the filter memo remembers, to keep them when asked again. */
const FILTER_ASKED = 4_096;

/**
 * Query words whose expansion key is remembered (`SearchIndex.keyOfWord`); past this many the
 * memory starts again empty (each is a short string and a reference to a shared key).
 */
const KEYS_OF_WORDS = 65_536;

/** The codes of an absent doc: no kept word matches it. */
const NO_CODES: ReadonlyMap<WordSet, number> = new Map();

/** Words at least this long also match with one typo. */
const TYPO_MIN_LENGTH = 5;
const DELETION_MIN = TYPO_MIN_LENGTH - 1;
const DELETION_MAX = 32;

/**
 * Where the query plans switch; tests move them so that small catalogs take every plan.
 * `broad`: unfiltered words the largest of which matches more than 1/`broad` of the docs (and one
 * unfiltered word, whatever it matches) are answered from each word's kept aggregates; fewer are
 * gathered doc by doc. `dense`: a word set holding more than 1/`dense` of the docs is probed
 * through per-doc codes, a smaller one searched.
 * `keptBytes`: memory the kept word sets may hold (docs, codes, per-doc codes, counts, ranked lists,
 * and each set's own overhead).
 * `overlap`, `walk`: in a broad search for a page of `need`, an overlap with the broad word (and,
 * for two words, the other word's docs outside it) of at most `overlap` × (`need` + 16) docs is
 * scored doc by doc rather than met through ranked orders, and a walk down the ranked orders that
 * has not ended after `walk` × (`need` + 16) steps scores the overlap doc by doc.
 * `wordsFirst`: a filtered search whose words match fewer than 1/`wordsFirst` of the docs the
 * shortest filter list holds gathers the words' docs and checks the filters on each.
 * `wordChars`: the query words whose expansion is remembered (`keyOfWord`) hold at most this many
 * characters (and at most 65 536 words); past either, the memory starts again empty.
 * `laterNames`: a ranked list is made by merging the docs of names created since the build (sorted
 * by label) into the others (in name order already) while they are at most 1/`laterNames` of the
 * set, and by a radix sort on every name's position past that.
 * `rankedHead`: a ranked order of a set holding more than twice this many docs in the view is first
 * made as its head alone, this many docs, when slots are in name order; a walk past the head makes
 * the whole.
 * `filterMemoDocs`: the docs the filter memo holds over all its combinations; a combination holding
 * more than a quarter of that is not kept.
 */
export interface SearchIndexTuning {
  broad: number;
  wordChars: number;
  dense: number;
  keptBytes: number;
  overlap: number;
  walk: number;
  wordsFirst: number;
  laterNames: number;
  rankedHead: number;
  filterMemoDocs: number;
}
const DEFAULT_TUNING: SearchIndexTuning = {
  // 1/64 rather than 1/16 (2026-12-01): two typed words of a few thousand docs each were merged doc
  // by doc at about 96 µs a query, and cost 74 µs through their kept aggregates and ranked orders.
  broad: 64,
  // Long query words a fuzzer sends: at most 4 Mi characters of them (about 8 MiB) are remembered.
  wordChars: 4 * 1024 * 1024,
  dense: 16,
  keptBytes: 192 * 1024 * 1024,
  overlap: 4,
  walk: 16,
  wordsFirst: 1,
  laterNames: 4,
  // The walks down a ranked order stop within a few hundred docs (over the bench's log, at most 577
  // into sets of up to ~60 000 docs, half of them within 30), and ordering a whole broad set was the
  // largest part of making one (2026-12-02).
  rankedHead: 1_024,
  // The filtered docs of the qualifier combinations asked most recently, within 16 MiB (4 bytes a doc).
  filterMemoDocs: 4 * 1024 * 1024,
};

/** Profiles' values of some facets, flattened (`SearchIndex.profileValuesOf`). */
interface ProfileValues {
  /** Profiles there were when made. */
  profiles: number;
  start: Int32Array;
  values: Int32Array;
}

/** Filters checked doc by doc (`SearchIndex.filterCheck`). */
interface FilterCheck {
  bits: Uint32Array[];
  /** The filters' value ids, in the filters' order. */
  ids: number[];
  orphaned: boolean;
  /** The shortest posting list's length: what walking the filtered docs would cost. */
  driver: number;
}

/** A word set's docs in a view, best match first, then by name, with each one's code. */
interface Ranked extends Entries {
  /**
   * False for the head of the order alone (`tuning.rankedHead` docs): a walk that reaches its end asks for
   * the whole (`rankedOf(set, view, true)`), whose head is these docs in this order.
   */
  complete: boolean;
  /**
   * Moves writes asked for and not made yet, by doc: placed in one merge when a query next reads
   * the list (`rankedOf`), rather than a shift of the list's tail on every write.
   */
  pending: Map<number, RankedMove> | null;
}

/** A doc's move in ranked docs: from the code it holds there to the code it goes in at (0: none). */
interface RankedMove {
  from: number;
  to: number;
}

/**
 * Doc ids with a code each, in parallel arrays, and the larger arrays they are the head of: writes
 * move entries within that room (`insertEntry`, `removeEntry`, `placeInPlace`), and only a list
 * that outgrows it is copied.
 */
interface Entries {
  docs: Int32Array;
  codes: Uint8Array;
  room: RankedArrays;
}

/** A word set's code for a doc, 0 when the word does not match it. */
type Probe = (doc: number) => number;

/**
 * The docs one query word matches, kept and patched by writes (`SearchIndex.wordSet`). A set is its
 * expansion's (the indexed words the query word reaches, each with its match quality), so the query
 * words a person types towards one word (`postg`, `postgr`, `postgre`) or its typos share one set.
 */
interface WordSet extends Entries {
  /** Its terms as one string (`expansionKey`). */
  key: string;
  /** Indexed word → quality of its match: a doc is in the set when it holds one of these. */
  terms: Map<string, number>;
  /**
   * The query word it was made for: an indexed word added later that this word reaches as a prefix
   * joins its terms (`addWord`), so a short prefix's set (most of the catalog) is patched rather
   * than made again.
   */
  word: string;
  /** Ascending, in every view. */
  docs: Int32Array;
  /** Code into `WEIGHTS` of each doc's best match, parallel to `docs`. */
  codes: Uint8Array;
  /** doc → code, for probing; made on first use. */
  dense: Uint8Array | null;
  /** Per view: docs in it (-1 until counted). */
  total: [number, number];
  /** Per view: value id → docs holding it, for the facets counted so far; made on first use. */
  facetCounts: [Int32Array | null, Int32Array | null];
  /** Per view: bit `1 << facet` set when that facet is counted in `facetCounts`. */
  counted: [number, number];
  /** Per view: docs best match first, then by name; made on first use. */
  ranked: [Ranked | null, Ranked | null];
  /** Per view: the most recently updated docs, at least `RECENT_KEPT` of them; made on first use. */
  recent: [Int32Array | null, Int32Array | null];
  /** A bit per doc (every view); made on first use. */
  bits: Uint32Array | null;
  /** Writes patched into it since a query last used it (`UNUSED_PATCHES` drops it). */
  unusedPatches: number;
}

/** A doc's words (with their best field group) and facet value ids, as indexed. */
interface DocState {
  words: Map<string, number>;
  values: Int32Array;
}
/** A slot's latest doc and its highest doc (null: absent). */
type SlotDocs = [DocState | null, DocState | null];
/** What a changed doc indexed and indexes (null: absent). */
interface DocChange {
  before: DocState | null;
  after: DocState | null;
}
/** Whether a slot's latest and highest docs existed before a change. */
type SlotPresence = [boolean, boolean];

/** 0: stable (latest) view; 1: prereleases included. */
export type View = 0 | 1;
export type SortOrder = 'relevance' | 'name' | 'updated';

export interface IndexQuery {
  view: View;
  /** Searched words (the first `MAX_QUERY_WORDS`). */
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

export interface IndexHit {
  /** The doc it is in this index (`answerBytes`, `definitionOf`). */
  doc: number;
  name: string;
  score: number;
}

export interface IndexResult {
  hits: IndexHit[];
  /** True when results follow the page. */
  more: boolean;
  total: number;
  facets: FacetCounts;
}

const FACET_INDEX = new Map<Facet, number>(FACETS.map((f, i) => [f, i]));
const facetAt = (f: Facet): number => FACET_INDEX.get(f) as number;
const PROVIDER = facetAt('provider');
const CATEGORY = facetAt('category');
const RESOURCE_TYPE = facetAt('resource_type');
const MATURITY = facetAt('maturity');
const SUPPORT_LEVEL = facetAt('support_level');
const ENGINE = facetAt('engine');
const LABEL = facetAt('label');

/** The facets a doc's profile holds: those with one value per version, and engines (few per version). */
const PROFILE_FACETS = new Set<number>(
  (['provider', 'category', 'resource_type', 'maturity', 'support_level', 'engine'] as const).map(facetAt),
);

export class SearchIndex {
  private readonly tuning: SearchIndexTuning;

  /** `chunks`: where the answer bytes' memory comes from (`PrefaultedChunks` for a build). */
  constructor(tuning: Partial<SearchIndexTuning> = {}, chunks: ChunkSource = HEAP_CHUNKS) {
    this.tuning = { ...DEFAULT_TUNING, ...tuning };
    this.answers = new AnswerArena(ANSWER_CHUNK_BYTES, chunks);
  }

  private readonly slotOf = new Map<string, number>();
  private readonly slotName: string[] = [];
  /** Slots in name order, with a label per slot that compares as the names do. */
  private readonly order = new NameOrder((slot) => this.slotName[slot] as string);
  /**
   * Folded name → slots, for the names their fold changes: with `slotOf`, the names a query's free
   * text can equal. Component names are folded already (lowercase ASCII), so this is nearly always
   * empty; a map of every name, an array each, was 200 000 heap objects at 100 000 names that every
   * full collection walked.
   */
  private readonly slotsByOtherFold = new Map<string, number[]>();
  /**
   * doc → the definition it indexes, as the UTF-8 JSON an answer holds (undefined when the doc does
   * not exist): a page's items are copies of these bytes, and the definition itself is read back
   * only where a write or an in-process caller needs it. Held as objects as well, the definitions
   * took 170 MiB more of the heap at 100 000 components than their bytes.
   */
  private readonly answers: AnswerArena;
  /** doc → 1 when it exists (has answer bytes), for tight loops. */
  private present = new Uint8Array(0);
  /** doc → 1 when its version is orphaned. */
  private orphanedFlag = new Uint8Array(0);
  /** doc → `Date.parse(updated_at)`. */
  private updated = new Float64Array(0);
  /** doc → interned facet value ids (single-valued facets, then engines, then labels). */
  private readonly docValues = new DocValues();
  /**
   * doc → its profile: the combination of its single-valued facet values and engines, interned.
   * A catalog has far fewer profiles than docs (provider, category, type, maturity, support and
   * engines go together), so counting those facets over a result is one increment per doc into
   * `profileCounts`, spread over the profiles' values at the end.
   */
  private profile = new Int32Array(0);
  private readonly profileId = new Map<string, number>();
  private readonly profileValues: Int32Array[] = [];
  private profileCounts = new Int32Array(0);
  /** `profileValuesOf` by facet mask (at most one per subset of the profile facets). */
  private readonly profileValuesByMask = new Map<number, ProfileValues>();
  private profilesMet = new Int32Array(0);
  /** word → postings (`doc * 4 + group`, the doc's best group for the word), unordered. */
  private readonly postings = new Map<string, number[]>();
  /** Every word ever indexed, sorted (prefix ranges). */
  private readonly words: string[] = [];
  /** one-character deletion of a word → words that yield it (one-typo candidates). */
  private readonly deletionsOf = new Map<string, string[]>();
  /** Per facet (by its index in `FACETS`), each value's id. */
  private readonly valueIds: Map<string, number>[] = FACETS.map(() => new Map<string, number>());
  private readonly valueFacet: number[] = [];
  private readonly valueText: string[] = [];
  /** value id → its `FacetCounts` JSON opening, made on first use. */
  private readonly valueOpenings: (Uint8Array | undefined)[] = [];
  private readonly valueTable: FacetValueTable = {
    valueText: (id) => this.valueText[id] as string,
    valueOpening: (id) => {
      let opening = this.valueOpenings[id];
      if (opening === undefined) {
        opening = Buffer.from(`{"value":${JSON.stringify(this.valueText[id])},"count":`);
        this.valueOpenings[id] = opening;
      }
      return opening;
    },
  };
  /** facet → ids of its values. */
  private readonly facetIds: number[][] = FACETS.map(() => []);
  /** value id → sorted doc ids holding it. */
  private readonly valueDocs: number[][] = [];
  /** value id → a bit per doc holding it: membership in one read, for checking filters. */
  private readonly valueBits: Uint32Array[] = [];
  /** Sorted doc ids whose version is orphaned. */
  private readonly orphanedDocs: number[] = [];
  /**
   * What `filter` found for each combination of filter values (and view, orphaned) a qualified
   * search asked lately, least recently asked first: a user types words under the same few
   * qualifiers (four in five of the bench's qualified searches repeat a combination), and a
   * combination's docs are a pass over its shortest posting list. A combination is kept from its
   * second asking (the first is noted in `filterAsked`): a list of one never asked again would cost
   * a copy for nothing. Emptied by every write.
   */
  private readonly filterMemo = new Map<number | string, Int32Array>();
  private filterMemoDocs = 0;
  private readonly filterAsked = new Set<number | string>();
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
  /** A broad search's lone other word's code of each overlap doc in `filtered`, when its walk gathered them. */
  private filteredCodes = new Uint8Array(0);
  /** The same of each doc outside L in `touched`. */
  private touchedCodes = new Uint8Array(0);
  /** How many docs the last `searchWords` asked for them matched with every word. */
  private bothCount = 0;
  /** Expansion key → the docs it matches, least recently used first (`wordSet`). */
  private readonly wordSets = new Map<string, WordSet>();
  private wordSetBytes = new WeakMap<WordSet, number>();
  /** Query word → its expansion's key, while the vocabulary has no new word (`addWord` forgets them). */
  private readonly keyOfWord = new Map<string, string>();
  /** Characters of the query words in `keyOfWord`. */
  private keyOfWordChars = 0;
  /** Indexed word → the kept sets among whose terms it is (`keptCodes`). */
  private readonly setsOfTerm = new Map<string, Set<WordSet>>();
  /** Query word → the kept set made for it (`WordSet.word`). */
  private readonly setsByWord = new Map<string, WordSet>();
  private keptBytes = 0;
  private counts = new Int32Array(0);
  /** `walkScoring`'s place in each later word's docs. */
  private readonly walkAt = new Int32Array(MAX_QUERY_WORDS);
  /** A bit per doc: the other words' docs of a broad search. */
  private others = new Uint32Array(1);
  /** A bit per doc, all zero between uses: a word set's docs put in order. */
  private sortBits = new Uint32Array(1);
  /** Whether `gatherPostings` met its docs in doc order. */
  private gatheredAscending = true;
  /** Per view: a bit per doc in it; made on first use after a change. */
  private viewBits: [Uint32Array | null, Uint32Array | null] = [null, null];

  /**
   * The word sets kept for later queries and the bytes they are counted at (`tuning.keptBytes` bounds
   * it), and the query words whose set is remembered (and their characters).
   */
  get keptWordSets(): { sets: number; bytes: number; words: number; wordChars: number } {
    return {
      sets: this.wordSets.size,
      bytes: this.keptBytes,
      words: this.keyOfWord.size,
      wordChars: this.keyOfWordChars,
    };
  }

  /** Number of names. */
  get size(): number {
    return this.slotName.length - this.removedSlots;
  }
  private removedSlots = 0;

  clear(): void {
    for (const name of [...this.slotOf.keys()]) this.remove(name);
  }

  /** Whether a name is indexed. */
  has(name: string): boolean {
    const slot = this.slotOf.get(name);
    return slot !== undefined && this.present[2 * slot] === 1;
  }

  /**
   * Indexes a name at its picks, replacing what it held. `latestJson`: the latest's JSON text when
   * the caller holds it (`JSON.parse` of it is `latest`), kept as its answer bytes as it is.
   */
  upsert(latest: ComponentDefinition, highest: ComponentDefinition, latestJson?: string): void {
    this.forgetFiltered();
    const slot = this.slotFor(latest.name);
    const was: SlotPresence = [this.present[2 * slot] === 1, this.present[2 * slot + 1] === 1];
    this.count(slot, -1);
    const first = this.setDoc(2 * slot, latest, latestJson);
    const second = this.setDoc(2 * slot + 1, highest.version === latest.version ? undefined : highest);
    this.count(slot, 1);
    if (first !== null || second !== null) this.patchWordSets(slot, was, [first, second]);
  }

  /** Drops a name (it has no listable version left). */
  remove(name: string): void {
    const slot = this.slotOf.get(name);
    if (slot === undefined || this.present[2 * slot] === 0) return;
    this.forgetFiltered();
    const was: SlotPresence = [true, this.present[2 * slot + 1] === 1];
    this.count(slot, -1);
    const first = this.setDoc(2 * slot, undefined);
    const second = this.setDoc(2 * slot + 1, undefined);
    this.removedSlots++;
    this.patchWordSets(slot, was, [first, second]);
  }

  /** The length of a doc's definition as the UTF-8 JSON of an answer (0 when the doc does not exist). */
  answerLength(doc: number): number {
    return this.answers.length(doc);
  }

  /** Copies a doc's answer bytes into `target` at `at`; returns how many. */
  copyAnswer(doc: number, target: Uint8Array, at: number): number {
    return this.answers.copyTo(doc, target, at);
  }

  /** A doc's definition, read back from its bytes (a new object each time). */
  definitionOf(doc: number): ComponentDefinition | undefined {
    const json = this.answers.text(doc);
    return json === undefined ? undefined : (JSON.parse(json) as ComponentDefinition);
  }

  /** The picks held for a name. */
  picks(name: string): { latest: ComponentDefinition; highest: ComponentDefinition } | null {
    const slot = this.slotOf.get(name);
    if (slot === undefined) return null;
    const latest = this.definitionOf(2 * slot);
    if (!latest) return null;
    return { latest, highest: this.definitionOf(2 * slot + 1) ?? latest };
  }

  /**
   * Per-doc work is done on typed arrays and doc ids; objects are made for the page alone, so a
   * word matching most of the catalog (`p`, `aws`) costs passes over its postings, not allocations.
   */
  query(asked: IndexQuery): IndexResult {
    // The words past `MAX_QUERY_WORDS` are not searched, as `parseSearchText` keeps no more.
    const q = asked.words.length > MAX_QUERY_WORDS ? { ...asked, words: asked.words.slice(0, MAX_QUERY_WORDS) } : asked;
    const orphaned = q.orphaned === true;
    if (q.words.length === 0) {
      const filtered = this.filter(q.filters, q.view, orphaned);
      if (filtered < 0) return this.finish(q, null, this.size, false);
      return this.finish(q, this.filtered, filtered, false);
    }
    const sets = packedMap(q.words, (word) => this.wordSet(word));
    if (q.filters.length > 0 || orphaned) {
      const check = this.filterCheck(q.filters, orphaned);
      if (check === null) return this.finish(q, this.hitDocs, 0, true);
      let wordDocs = 0;
      for (const set of sets) wordDocs += set.docs.length;
      // Words matching fewer docs than the shortest filter list holds: their docs are gathered and
      // each checked against the filters, rather than every filtered doc probed in each word.
      if (wordDocs * this.tuning.wordsFirst < check.driver) {
        return this.finish(q, this.hitDocs, this.searchWords(sets, q.phrase, q.view, check), true);
      }
      const filtered = this.filterRemembered(q.filters, check, q.view);
      return this.finish(q, this.hitDocs, this.probeFiltered(sets, q.phrase, filtered), true);
    }
    let largest = 0;
    for (const set of sets) largest = Math.max(largest, set.docs.length);
    // A word matching much of the catalog, or one word alone, is answered from what is kept with
    // its set (total, facet counts, ranked and recent docs), without a pass over it; a few words
    // matching little are cheap to gather doc by doc.
    if (sets.length === 1 || largest * this.tuning.broad > 2 * this.slotName.length) return this.broadSearch(q, sets);
    if (sets.length === 2) {
      // Two words: searchWords also gathers the docs both match. The facets of the union are each
      // word's kept counts less theirs, rather than a count over every hit; and when they fill the
      // relevance page they are all it is ranked from (a doc matching both words outranks any
      // matching one).
      const hits = this.searchWords(sets, q.phrase, q.view, null, this.filtered);
      const both = { docs: this.filtered, n: this.bothCount };
      const facets = q.facets.length > 0 ? this.twoWordFacets(q, sets, both.docs, both.n) : null;
      return this.finish(q, this.hitDocs, hits, true, facets, both.n >= q.offset + q.limit ? both : null);
    }
    return this.finish(q, this.hitDocs, this.searchWords(sets, q.phrase, q.view), true);
  }

  /**
   * Facets, page and total of a result held as doc ids (null: the whole view); scores in `score`.
   * `counted`: the facets, counted already; `best`: docs holding every doc a relevance page can hold.
   */
  private finish(
    q: IndexQuery,
    docs: Int32Array | null,
    n: number,
    searching: boolean,
    counted: FacetCounts | null = null,
    best: { docs: Int32Array; n: number } | null = null,
  ): IndexResult {
    try {
      const facets: FacetCounts =
        counted ??
        (q.facets.length === 0
          ? FacetCounts.none(q.facets)
          : docs
            ? this.countFacets(docs, n, q.view, q.facets, q.facetLimit)
            : this.viewFacets(q.view, q.facets, q.facetLimit));
      const sort = q.sort === 'relevance' && !searching ? 'name' : q.sort;
      let page: number[];
      let more: boolean;
      if (sort === 'name') {
        ({ page, more } = this.byName(docs, n, q.view, q.after, q.limit));
      } else {
        const key = sort === 'updated' ? this.updated : this.score;
        page = (
          sort === 'relevance' && best !== null
            ? topDocs(best.docs, best.n, q.offset + q.limit, key, this.order.labelArray)
            : topDocs(docs ?? this.viewDocs(q.view), n, q.offset + q.limit, key, this.order.labelArray)
        ).slice(q.offset);
        more = q.offset + q.limit < n;
      }
      return {
        hits: page.map((doc) => ({
          doc,
          name: this.slotName[doc >> 1] as string,
          score: searching ? publicScore(this.score[doc] as number) : 0,
        })),
        more,
        total: n,
        facets,
      };
    } finally {
      if (searching && docs) for (let i = 0; i < n; i++) this.score[docs[i] as number] = 0;
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
      if (fold !== name) {
        const same = this.slotsByOtherFold.get(fold);
        if (same) same.push(slot);
        else this.slotsByOtherFold.set(fold, [slot]);
      }
      this.grow(2 * slot + 2);
    } else if (this.present[2 * slot] === 0) {
      this.removedSlots--;
    }
    return slot;
  }

  private grow(docs: number): void {
    if (docs <= this.updated.length) return;
    this.forgetWordSets();
    const cap = Math.max(docs, this.updated.length * 2, 64);
    const updated = new Float64Array(cap);
    updated.set(this.updated);
    this.updated = updated;
    const present = new Uint8Array(cap);
    present.set(this.present);
    this.present = present;
    const orphanedFlag = new Uint8Array(cap);
    orphanedFlag.set(this.orphanedFlag);
    this.orphanedFlag = orphanedFlag;
    const profile = new Int32Array(cap);
    profile.set(this.profile);
    this.profile = profile;
    this.docValues.ensure(cap);
    this.valueBits.forEach((old, id) => {
      const bits = new Uint32Array((cap >> 5) + 1);
      bits.set(old);
      this.valueBits[id] = bits;
    });
    this.wordBest = new Uint8Array(cap);
    this.score = new Float64Array(cap);
    this.matched = new Uint8Array(cap);
    this.mark = new Uint8Array(cap);
    this.touched = new Int32Array(cap);
    this.wordTouched = new Int32Array(cap);
    this.hitDocs = new Int32Array(cap);
    this.filtered = new Int32Array(cap);
    this.filteredCodes = new Uint8Array(cap);
    this.touchedCodes = new Uint8Array(cap);
    this.others = new Uint32Array((cap >> 5) + 1);
    this.sortBits = new Uint32Array((cap >> 5) + 1);
  }

  /**
   * Sets what a doc indexes: what it held and holds, or null when it indexes what it did (its answer
   * bytes may be new).
   */
  private setDoc(doc: number, def: ComponentDefinition | undefined, json?: string): DocChange | null {
    const old = this.definitionOf(doc);
    if (old === undefined && def === undefined) return null;
    if (def) this.answers.put(doc, json ?? JSON.stringify(def));
    else this.answers.drop(doc);
    this.present[doc] = def ? 1 : 0;
    // The same version at the same revision, orphaned and updated alike, is indexed alike.
    if (
      old &&
      def &&
      old.version === def.version &&
      old.revision === def.revision &&
      old.digest === def.digest &&
      Boolean(old.orphaned) === Boolean(def.orphaned) &&
      old.updated_at === def.updated_at
    ) {
      return null;
    }
    const before = old ? { words: documentWords(old), values: this.docValues.of(doc) as Int32Array } : null;
    const words = def ? documentWords(def) : null;
    if (old && before) this.unindex(doc, old, before.words, words);
    const after = def && words ? { words, values: this.index(doc, def, words, before?.words ?? null) } : null;
    return { before, after };
  }

  /** What an unchanged doc indexes (null when absent). */
  private docState(doc: number): DocState | null {
    const def = this.present[doc] === 1 ? this.definitionOf(doc) : undefined;
    return def ? { words: documentWords(def), values: this.docValues.of(doc) as Int32Array } : null;
  }

  /**
   * Brings the kept word sets up to a change of `slot`'s docs, rather than dropping them: a set is
   * touched only when its word matches a word either doc held before or holds now, and then only
   * where the slot was or is in it. Dropping every set on every write made a catalog taking a write
   * every hundred searches answer them five times slower, rebuilding sets such as a first letter's
   * (most of the catalog) after each write. Docs, codes, per-doc codes, bits, totals and facet
   * counts, and each view's ranked and recent docs are patched in place.
   */
  private patchWordSets(slot: number, was: SlotPresence, changes: [DocChange | null, DocChange | null]): void {
    const a = 2 * slot;
    for (const view of [0, 1] as const) {
      const bits = this.viewBits[view];
      if (!bits) continue;
      bits[a >> 5] = (bits[a >> 5] as number) & ~(3 << (a & 31));
      if (this.present[a] === 1) {
        const doc = this.viewDoc(slot, view);
        bits[doc >> 5] = (bits[doc >> 5] as number) | (1 << (doc & 31));
      }
    }
    if (this.wordSets.size === 0) return;
    // A doc the change left as it was holds the same words before and after.
    const unchanged = changes.map((change, i) => (change === null ? this.docState(a + i) : null));
    const before: SlotDocs = [changes[0]?.before ?? unchanged[0] ?? null, changes[1]?.before ?? unchanged[1] ?? null];
    const after: SlotDocs = [changes[0]?.after ?? unchanged[0] ?? null, changes[1]?.after ?? unchanged[1] ?? null];
    const viewBefore = (view: View) => (!was[0] ? -1 : view === 1 && was[1] ? a + 1 : a);
    const viewAfter = (view: View) => (this.present[a] === 0 ? -1 : this.viewDoc(slot, view));
    // A doc the change left as it was is the same state before and after: its codes are found once.
    const found = new Map<DocState, ReadonlyMap<WordSet, number>>();
    const codesIn = (state: DocState | null): ReadonlyMap<WordSet, number> => {
      if (state === null) return NO_CODES;
      let codes = found.get(state);
      if (codes === undefined) {
        codes = this.keptCodes(state);
        found.set(state, codes);
      }
      return codes;
    };
    const held = [codesIn(before[0]), codesIn(before[1])] as const;
    const holds = [codesIn(after[0]), codesIn(after[1])] as const;
    const touched = new Set([...held[0].keys(), ...held[1].keys(), ...holds[0].keys(), ...holds[1].keys()]);
    for (const set of touched) {
      // Dropped while this loop kept another (its memory budget).
      if (this.wordSets.get(set.key) !== set) continue;
      const old: [number, number] = [held[0].get(set) ?? 0, held[1].get(set) ?? 0];
      const now: [number, number] = [holds[0].get(set) ?? 0, holds[1].get(set) ?? 0];
      if (old[0] === 0 && old[1] === 0 && now[0] === 0 && now[1] === 0) continue;
      // A set no query has asked for over many writes (a sync publishing thousands of versions) is
      // dropped rather than patched on: the next query to need it makes it again, once.
      if (++set.unusedPatches > UNUSED_PATCHES) {
        this.drop(set);
        continue;
      }
      if (old[0] !== now[0] || old[1] !== now[1]) this.patchDocs(set, a, now);
      for (const view of [0, 1] as const) {
        const prior = viewBefore(view);
        const current = viewAfter(view);
        const inBefore = prior >= 0 && (old[prior - a] as number) > 0;
        const inAfter = current >= 0 && (now[current - a] as number) > 0;
        if (!inBefore && !inAfter) continue;
        if (set.total[view] >= 0) set.total[view] += (inAfter ? 1 : 0) - (inBefore ? 1 : 0);
        const counted = set.counted[view];
        const counts = set.facetCounts[view];
        if (counts && counted !== 0) {
          const grown = this.countsFor(set, view, counts);
          if (inBefore) this.addValues(grown, counted, (before[prior - a] as DocState).values, -1);
          if (inAfter) this.addValues(grown, counted, (after[current - a] as DocState).values, 1);
        }
        const ranked = set.ranked[view];
        // A head alone is made again rather than patched: a doc moving in or out of it could come
        // from or go to the part it does not hold.
        const placed =
          ranked?.complete === true &&
          this.patchRanked(
            ranked,
            inBefore ? prior : -1,
            inBefore ? (old[prior - a] as number) : 0,
            inAfter ? current : -1,
            inAfter ? (now[current - a] as number) : 0,
          );
        if (!placed) set.ranked[view] = null;
        const recent = set.recent[view];
        if (recent) set.recent[view] = this.patchRecent(recent, inBefore ? prior : -1, inAfter ? current : -1);
      }
      this.keep(set);
    }
  }

  /** Puts docs `a` and `a + 1` into `set` at codes `now` (0: not in it). */
  private patchDocs(set: WordSet, a: number, now: [number, number]): void {
    for (const doc of [a, a + 1]) {
      const c = now[doc - a] as number;
      const at = numberBound(set.docs, doc);
      const held = at < set.docs.length && set.docs[at] === doc;
      if (c === 0) {
        if (held) removeEntry(set, at);
      } else if (held) {
        set.codes[at] = c;
      } else {
        insertEntry(set, at, doc, c);
      }
      if (set.dense) set.dense[doc] = c;
      if (set.bits) {
        if (c > 0) set.bits[doc >> 5] = (set.bits[doc >> 5] as number) | (1 << (doc & 31));
        else set.bits[doc >> 5] = (set.bits[doc >> 5] as number) & ~(1 << (doc & 31));
      }
    }
  }

  /**
   * Records a view's doc moving in a set's ranked docs: out from where code `was` put `prior`, in
   * where code `is` puts `current` (either -1 when not in the set). The list is changed when a query
   * next reads it (`placePending`): most kept lists are patched by many writes per read, and a shift
   * of a broad list's tail per write was most of a write's cost. False when so many moves wait that
   * making the list again is cheaper (it is then dropped).
   */
  private patchRanked(ranked: Ranked, prior: number, was: number, current: number, is: number): boolean {
    if (prior === current && was === is) return true;
    if (ranked.pending === null) ranked.pending = new Map();
    const pending = ranked.pending;
    if (prior >= 0) {
      const move = pending.get(prior);
      // A doc already moving keeps the code it holds in the list as it stands.
      if (move) move.to = 0;
      else pending.set(prior, { from: was, to: 0 });
    }
    if (current >= 0) {
      const move = pending.get(current);
      if (move) move.to = is;
      else pending.set(current, { from: 0, to: is });
    }
    return pending.size <= (ranked.docs.length >> 3) + PENDING_MIN;
  }

  /**
   * Makes a ranked list's pending moves at once: each doc leaving is found where its code puts it,
   * each doc arriving goes where its code and name put it, and the segments between move within the
   * list's room (into a larger copy when it has too little). Moving in place, a read after a write
   * costs a shift of part of the list rather than an allocation and a copy of all of it. False when
   * a leaving doc is not where it should be (the list is then made again from the set).
   */
  private placePending(ranked: Ranked): boolean {
    const pending = ranked.pending;
    if (pending === null) return true;
    const { docs, codes } = ranked;
    const n = docs.length;
    const leaving: number[] = [];
    const arriving: Arrival[] = [];
    for (const [doc, { from, to }] of pending) {
      if (from === to) continue;
      if (from > 0) {
        const at = this.rankedAt(ranked, doc, from);
        if (docs[at] !== doc) return false;
        leaving.push(at);
      }
      if (to > 0) arriving.push({ at: this.rankedAt(ranked, doc, to), doc, code: to });
    }
    leaving.sort((x, y) => x - y);
    // Docs arriving at one place come in their own rank order: best code first, then by name.
    const label = this.order.labelArray;
    arriving.sort(
      (x, y) => x.at - y.at || y.code - x.code || (label[x.doc >> 1] as number) - (label[y.doc >> 1] as number),
    );
    const size = n - leaving.length + arriving.length;
    if (ranked.room.docs.length < size) {
      ranked.room = mergeMoves(docs, codes, leaving, arriving, grownCapacity(size));
    } else {
      placeInPlace(ranked.room, n, leaving, arriving);
    }
    ranked.docs = ranked.room.docs.subarray(0, size);
    ranked.codes = ranked.room.codes.subarray(0, size);
    ranked.pending = null;
    return true;
  }

  /** Where `doc` at `code` is, or goes, in ranked docs: best code first, then by name. */
  private rankedAt(ranked: Ranked, doc: number, code: number): number {
    const label = this.order.labelArray;
    const at = label[doc >> 1] as number;
    const { docs, codes } = ranked;
    let lo = 0;
    let hi = docs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = codes[mid] as number;
      if (c > code || (c === code && (label[(docs[mid] as number) >> 1] as number) < at)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Keeps a view's recent docs the head of the set's docs by update time: `prior` taken out, and
   * `current` put in where it comes before the last held (after it, the head stays a head without
   * it; `recentOf` makes a longer one when asked for more). Either is -1 when not in the set.
   */
  private patchRecent(recent: Int32Array, prior: number, current: number): Int32Array {
    // In place, as most writes touch a hundred kept sets: a doc leaving shortens the head (a view of
    // the same memory), and one arriving pushes the last out when the head has no room to grow.
    let out = recent;
    const at = prior >= 0 ? out.indexOf(prior) : -1;
    if (at >= 0) {
      out.copyWithin(at, at + 1);
      out = out.subarray(0, out.length - 1);
    }
    if (current < 0 || out.length === 0 || !this.recentBefore(current, out[out.length - 1] as number)) return out;
    let place = 0;
    while (this.recentBefore(out[place] as number, current)) place++;
    const capacity = (out.buffer.byteLength - out.byteOffset) >> 2;
    if (out.length < capacity) {
      out = new Int32Array(out.buffer, out.byteOffset, out.length + 1);
    } else if (out.length < RECENT_KEPT) {
      const grown = new Int32Array(out.length + 1);
      grown.set(out);
      out = grown;
    }
    out.copyWithin(place + 1, place, out.length - 1);
    out[place] = current;
    return out;
  }

  /** The order of a page by update time: most recent first, then by name. */
  private recentBefore(a: number, b: number): boolean {
    const ua = this.updated[a] as number;
    const ub = this.updated[b] as number;
    if (ua !== ub) return ua > ub;
    const label = this.order.labelArray;
    return (label[a >> 1] as number) < (label[b >> 1] as number);
  }

  /** `set`'s counts for `view`, grown to every value id there is (a write may have added some). */
  private countsFor(set: WordSet, view: View, counts: Int32Array): Int32Array {
    if (counts.length >= this.valueText.length) return counts;
    const grown = new Int32Array(this.valueText.length);
    grown.set(counts);
    set.facetCounts[view] = grown;
    return grown;
  }

  /** Adds `delta` to the counts of the values whose facet is in the `counted` mask. */
  private addValues(counts: Int32Array, counted: number, values: Int32Array, delta: 1 | -1): void {
    for (let i = 0; i < values.length; i++) {
      const id = values[i] as number;
      if ((counted >> (this.valueFacet[id] as number)) & 1) counts[id] = (counts[id] as number) + delta;
    }
  }

  /**
   * The kept sets holding a doc, with the code each has there (its best match, graded as the set's
   * terms grade it): found through the doc's words (`setsOfTerm`), so a write's cost follows its
   * words, not the sets kept.
   */
  private keptCodes(state: DocState): Map<WordSet, number> {
    const codes = new Map<WordSet, number>();
    for (const [word, group] of state.words) {
      const sets = this.setsOfTerm.get(word);
      if (sets === undefined) continue;
      for (const set of sets) {
        const c = (WEIGHT_CODE.get(set.terms.get(word) as number) as Uint8Array)[group] as number;
        if (c > (codes.get(set) ?? 0)) codes.set(set, c);
      }
    }
    return codes;
  }

  /**
   * Indexes a doc's words (those `held` did not already index at the same group: an update posts
   * only what changed) and facet values; returns the value ids.
   */
  private index(
    doc: number,
    def: ComponentDefinition,
    words: Map<string, number>,
    held: Map<string, number> | null,
  ): Int32Array {
    for (const [word, group] of words) {
      if (held === null || held.get(word) !== group) this.postingsOf(word).push(doc * 4 + group);
    }
    const ids = this.valuesOf(def);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      insertSorted(this.valueDocs[id] as number[], doc);
      const bits = this.valueBits[id] as Uint32Array;
      bits[doc >> 5] = (bits[doc >> 5] as number) | (1 << (doc & 31));
    }
    this.docValues.set(doc, ids);
    this.layOut(doc, ids);
    if (def.orphaned) insertSorted(this.orphanedDocs, doc);
    this.orphanedFlag[doc] = def.orphaned ? 1 : 0;
    this.updated[doc] = Date.parse(def.updated_at) || 0;
    return ids;
  }

  /** A word's postings, made (and the word added) when it has none. */
  private postingsOf(word: string): number[] {
    let list = this.postings.get(word);
    if (!list) {
      list = [];
      this.postings.set(word, list);
      this.addWord(word);
    }
    return list;
  }

  /** Interns the doc's profile (its values of `PROFILE_FACETS`). */
  private layOut(doc: number, ids: Int32Array): void {
    const held: number[] = [];
    for (const id of ids) if (PROFILE_FACETS.has(this.valueFacet[id] as number)) held.push(id);
    const key = held.join(',');
    let profile = this.profileId.get(key);
    if (profile === undefined) {
      profile = this.profileValues.length;
      this.profileId.set(key, profile);
      this.profileValues.push(Int32Array.from(held));
      if (this.profileCounts.length <= profile) {
        this.profileCounts = new Int32Array(Math.max(64, this.profileCounts.length * 2));
        this.profilesMet = new Int32Array(this.profileCounts.length);
      }
    }
    this.profile[doc] = profile;
  }

  /**
   * Takes a doc's words out of the postings (but those `next` indexes at the same group: a word of a
   * large list is found by a scan of it, which an update mostly need not make) and its values.
   */
  private unindex(
    doc: number,
    def: ComponentDefinition,
    words: Map<string, number>,
    next: Map<string, number> | null,
  ): void {
    for (const [word, group] of words) {
      if (next !== null && next.get(word) === group) continue;
      const list = this.postings.get(word);
      if (!list) continue;
      const at = list.indexOf(doc * 4 + group);
      if (at === -1) continue;
      list[at] = list[list.length - 1] as number;
      list.pop();
    }
    for (const id of this.docValues.of(doc) ?? []) {
      removeSorted(this.valueDocs[id] as number[], doc);
      const bits = this.valueBits[id] as Uint32Array;
      bits[doc >> 5] = (bits[doc >> 5] as number) & ~(1 << (doc & 31));
    }
    if (def.orphaned) removeSorted(this.orphanedDocs, doc);
    this.orphanedFlag[doc] = 0;
    this.docValues.clear(doc);
  }

  private addWord(word: string): void {
    this.words.splice(lowerBound(this.words, word), 0, word);
    // A query word may expand to the new word: its key is found again when next asked (and finds
    // its set where it was made for it and reaches the new word as a prefix).
    if (this.wordSets.size > 0) this.extendSets(word);
    this.keyOfWord.clear();
    this.keyOfWordChars = 0;
    if (word.length < DELETION_MIN || word.length > DELETION_MAX) return;
    for (const d of deletions(word)) {
      const list = this.deletionsOf.get(d);
      if (list) list.push(word);
      else this.deletionsOf.set(d, [word]);
    }
  }

  /**
   * A definition's facet values, interned: provider, category, resource type, maturity, support
   * level, each engine once, each label as `key=value`, in that order (the profile's key follows it).
   */
  private valuesOf(def: ComponentDefinition): Int32Array {
    const engines = def.deployment_engines;
    const ids = [
      this.internValue(PROVIDER, def.provider),
      this.internValue(CATEGORY, def.category),
      this.internValue(RESOURCE_TYPE, def.resource_type),
      this.internValue(MATURITY, def.maturity),
      this.internValue(SUPPORT_LEVEL, def.support_level),
    ];
    for (let i = 0; i < engines.length; i++) {
      const engine = engines[i] as string;
      if (engines.indexOf(engine) === i) ids.push(this.internValue(ENGINE, engine));
    }
    for (const key of Object.keys(def.labels)) ids.push(this.internValue(LABEL, `${key}=${def.labels[key]}`));
    return Int32Array.from(ids);
  }

  /** A value's id, or undefined when no doc ever held it. */
  private valueIdOf(facet: Facet, value: string): number | undefined {
    return (this.valueIds[facetAt(facet)] as Map<string, number>).get(value);
  }

  private internValue(facet: number, value: string): number {
    const values = this.valueIds[facet] as Map<string, number>;
    let id = values.get(value);
    if (id === undefined) {
      id = this.valueText.length;
      values.set(value, id);
      this.valueFacet.push(facet);
      (this.facetIds[facet] as number[]).push(id);
      this.valueText.push(value);
      this.valueOpenings.push(undefined);
      this.valueDocs.push([]);
      this.valueBits.push(new Uint32Array((this.present.length >> 5) + 1));
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
    const latest = this.docValues.of(2 * slot);
    if (!latest || this.present[2 * slot] === 0) return;
    const highest = this.present[2 * slot + 1] === 1 ? (this.docValues.of(2 * slot + 1) as Int32Array) : latest;
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
   * `filter` through the filter memo, for qualified searches (`check` is the filters', whose value
   * ids make the key): a combination's docs copied from it when kept, otherwise found by `filter`
   * (and kept from the combination's second asking). Lists call `filter` itself: each of the
   * bench's distinct list filters paid about 2 µs of the memo's bookkeeping (9 % of a list) and none
   * repeated, where qualified searches repeat their qualifiers as the words change (0.93 of the time).
   */
  private filterRemembered(filters: readonly Filter[], check: FilterCheck, view: View): number {
    const { orphaned } = check;
    const key = filterKey(check.ids, view, orphaned);
    const kept = this.filterMemo.get(key);
    if (kept !== undefined) {
      this.filterMemo.delete(key);
      this.filterMemo.set(key, kept);
      this.filtered.set(kept);
      return kept.length;
    }
    const n = this.filter(filters, view, orphaned);
    if (this.filterAsked.delete(key)) this.keepFiltered(key, n);
    else {
      if (this.filterAsked.size >= FILTER_ASKED) this.filterAsked.clear();
      this.filterAsked.add(key);
    }
    return n;
  }

  /** The first `n` of `filtered` kept for `key`, the least recently asked lists let go past the bound. */
  private keepFiltered(key: number | string, n: number): void {
    const bound = this.tuning.filterMemoDocs;
    if (n > bound / 4) return;
    for (const [old, docs] of this.filterMemo) {
      if (this.filterMemoDocs + n <= bound) break;
      this.filterMemo.delete(old);
      this.filterMemoDocs -= docs.length;
    }
    this.filterMemo.set(key, this.filtered.slice(0, n));
    this.filterMemoDocs += n;
  }

  private forgetFiltered(): void {
    if (this.filterMemo.size === 0) return;
    this.filterMemo.clear();
    this.filterMemoDocs = 0;
  }

  /**
   * Docs of the view passing every filter (and only orphaned ones when `orphaned`), sorted by doc
   * id, into `filtered`; returns how many, or -1 when nothing filters. The shortest posting list
   * drives, and each of its docs is checked against the other filters through their bits, which
   * costs the shortest list, not the longer ones.
   */
  private filter(filters: readonly Filter[], view: View, orphaned: boolean): number {
    if (filters.length === 0 && !orphaned) return -1;
    const ids: number[] = [];
    for (const f of filters) {
      const id = this.valueIdOf(f.facet, f.value);
      if (id === undefined) return 0;
      ids.push(id);
    }
    let driver: readonly number[] = orphaned ? this.orphanedDocs : (this.valueDocs[ids[0] as number] as number[]);
    let driving = orphaned ? -1 : 0;
    ids.forEach((id, i) => {
      const list = this.valueDocs[id] as number[];
      if (list.length < driver.length) {
        driver = list;
        driving = i;
      }
    });
    if (!orphaned && ids.length > 1 && driver.length * this.tuning.dense > this.present.length) {
      return this.filterByBits(ids, view);
    }
    // A bit per doc is a denser read than the doc's own values: each check touches a word shared
    // with 31 other docs.
    const bitsOf: Uint32Array[] = [];
    ids.forEach((id, i) => {
      if (i !== driving) bitsOf.push(this.valueBits[id] as Uint32Array);
    });
    const checkOrphaned = orphaned && driving !== -1;
    const out = this.filtered;
    let kept = 0;
    next: for (let i = 0; i < driver.length; i++) {
      const doc = driver[i] as number;
      for (let b = 0; b < bitsOf.length; b++) {
        if ((((bitsOf[b] as Uint32Array)[doc >> 5] as number) & (1 << (doc & 31))) === 0) continue next;
      }
      if (checkOrphaned && this.orphanedFlag[doc] === 0) continue;
      if (this.inView(doc, view)) out[kept++] = doc;
    }
    return kept;
  }

  /**
   * The filters as a bit per doc per value, with the length of the shortest posting list among
   * them (the orphaned docs' when only those are asked for); null when a value is unknown (nothing
   * passes).
   */
  private filterCheck(filters: readonly Filter[], orphaned: boolean): FilterCheck | null {
    const bits: Uint32Array[] = [];
    const ids: number[] = [];
    let driver = orphaned ? this.orphanedDocs.length : Number.POSITIVE_INFINITY;
    for (const f of filters) {
      const id = this.valueIdOf(f.facet, f.value);
      if (id === undefined) return null;
      ids.push(id);
      bits.push(this.valueBits[id] as Uint32Array);
      driver = Math.min(driver, (this.valueDocs[id] as number[]).length);
    }
    return { bits, ids, orphaned, driver };
  }

  /** Whether a doc passes a `filterCheck`. */
  private passes(doc: number, check: FilterCheck): boolean {
    for (const bits of check.bits) if ((((bits[doc >> 5] as number) >>> (doc & 31)) & 1) === 0) return false;
    return !check.orphaned || this.orphanedFlag[doc] === 1;
  }

  /**
   * `filter` when even the shortest list holds much of the catalog: the values' bits are ANDed 32
   * docs at a time, and only the docs left are visited.
   */
  private filterByBits(ids: readonly number[], view: View): number {
    const bits = ids.map((id) => this.valueBits[id] as Uint32Array);
    const first = bits[0] as Uint32Array;
    const out = this.filtered;
    let kept = 0;
    const words = this.bitWords();
    for (let w = 0; w < words; w++) {
      let x = first[w] as number;
      for (let b = 1; b < bits.length && x !== 0; b++) x &= (bits[b] as Uint32Array)[w] as number;
      while (x !== 0) {
        const low = x & -x;
        x ^= low;
        const doc = (w << 5) + 31 - Math.clz32(low);
        if (this.inView(doc, view)) out[kept++] = doc;
      }
    }
    return kept;
  }

  // --- word sets

  /**
   * The docs a query word matches with each one's best match, made once from the postings of the
   * word's expansions (prefixes, one-typo neighbours) and kept, writes patching it: queries
   * typed a keystroke at a time share their words (`p`, `po`, `aws`), and the union of a short
   * prefix's expansions is most of a query's cost otherwise. Kept most recently used first, within
   * `tuning.keptBytes`.
   */
  private wordSet(word: string): WordSet {
    let key = this.keyOfWord.get(word);
    let terms: Map<string, number> | null = null;
    if (key === undefined) {
      terms = this.expand(word);
      const made = expansionKey(terms);
      this.keyOfWordChars += word.length;
      if (this.keyOfWord.size >= KEYS_OF_WORDS || this.keyOfWordChars > this.tuning.wordChars) {
        this.keyOfWord.clear();
        this.keyOfWordChars = word.length;
      }
      this.keyOfWord.set(word, made);
      key = made;
    }
    const kept = this.wordSets.get(key);
    if (kept) {
      this.wordSets.delete(key);
      this.wordSets.set(key, kept);
      kept.unusedPatches = 0;
      return kept;
    }
    terms ??= this.expand(word);
    // The passes over postings and docs are functions of their own (see `viewDocsInto`): this one
    // runs once per new word, and code V8 compiled from inside its loops met what followed them
    // unseen on every later word.
    const count = this.gatherPostings(terms);
    const room = roomFor(count);
    const docs = room.docs.subarray(0, count);
    const codes = room.codes.subarray(0, count);
    this.drainGathered(count, docs, codes);
    const set: WordSet = {
      key,
      terms,
      word,
      docs,
      codes,
      dense: null,
      total: [-1, -1],
      facetCounts: [null, null],
      counted: [0, 0],
      ranked: [null, null],
      room,
      recent: [null, null],
      bits: null,
      unusedPatches: 0,
    };
    this.keep(set);
    return set;
  }

  /**
   * Keeps `set` under its key (again, if it was dropped while a query held it and no set has taken
   * the key since) and accounts what it holds now, dropping the least recently used sets past the
   * budget.
   */
  private keep(set: WordSet): void {
    const holder = this.wordSets.get(set.key);
    if (holder === undefined) {
      this.wordSets.set(set.key, set);
      this.setsByWord.set(set.word, set);
      for (const term of set.terms.keys()) this.holdTerm(term, set);
    } else if (holder !== set) {
      return;
    }
    let bytes = WORD_SET_OVERHEAD + 2 * set.key.length + set.terms.size * TERM_KEPT_BYTES;
    bytes += entriesBytes(set) + (set.dense?.byteLength ?? 0) + (set.bits?.byteLength ?? 0);
    for (const view of [0, 1] as const) {
      const ranked = set.ranked[view];
      bytes += (set.facetCounts[view]?.byteLength ?? 0) + (ranked ? entriesBytes(ranked) : 0);
      bytes += (ranked?.pending?.size ?? 0) * PENDING_BYTES;
      bytes += set.recent[view]?.byteLength ?? 0;
    }
    this.keptBytes += bytes - (this.wordSetBytes.get(set) ?? 0);
    this.wordSetBytes.set(set, bytes);
    for (const s of this.wordSets.values()) {
      if (this.keptBytes <= this.tuning.keptBytes || s === set) break;
      this.drop(s);
    }
  }

  /** Stops keeping a set. */
  private drop(set: WordSet): void {
    if (this.wordSets.get(set.key) !== set) return;
    this.keptBytes -= this.wordSetBytes.get(set) ?? 0;
    this.wordSetBytes.delete(set);
    this.wordSets.delete(set.key);
    if (this.setsByWord.get(set.word) === set) this.setsByWord.delete(set.word);
    for (const term of set.terms.keys()) {
      const sets = this.setsOfTerm.get(term);
      sets?.delete(set);
      if (sets?.size === 0) this.setsOfTerm.delete(term);
    }
  }

  /**
   * Adds a new indexed word to the terms of the kept sets made for its prefixes (the word itself
   * included): those query words reach it now, and their sets take in its docs as writes patch
   * them. A set other query words shared is theirs no more (they find their expansion again).
   */
  private extendSets(term: string): void {
    for (let k = 1; k <= term.length; k++) {
      const set = this.setsByWord.get(term.slice(0, k));
      if (set === undefined || this.wordSets.get(set.key) !== set) continue;
      this.wordSets.delete(set.key);
      set.terms.set(term, k === term.length ? EXACT : PREFIX);
      set.key = expansionKey(set.terms);
      this.wordSets.set(set.key, set);
      this.holdTerm(term, set);
      this.keep(set);
    }
  }

  /** Notes that kept `set` holds `term` among its terms (`setsOfTerm`). */
  private holdTerm(term: string, set: WordSet): void {
    const sets = this.setsOfTerm.get(term);
    if (sets) sets.add(set);
    else this.setsOfTerm.set(term, new Set([set]));
  }

  /** Drops what was derived from the documents: called when the per-doc arrays grow. */
  private forgetWordSets(): void {
    this.viewBits = [null, null];
    if (this.wordSets.size === 0) return;
    this.wordSets.clear();
    this.setsOfTerm.clear();
    this.setsByWord.clear();
    this.wordSetBytes = new WeakMap();
    this.keptBytes = 0;
  }

  /** doc → code of `set`, for probing. */
  private denseOf(set: WordSet): Uint8Array {
    if (set.dense) return set.dense;
    // Sized to the capacity, as the other per-doc arrays: a new name within it is patched in (and
    // probed as any other doc), and growing past it drops every kept set.
    const dense = denseCodes(set.docs, set.codes, this.present.length);
    set.dense = dense;
    this.keep(set);
    return dense;
  }

  /** Whether `set` is probed through per-doc codes (it has them, or holds over 1/`dense` of the docs). */
  private isLarge(set: WordSet): boolean {
    return set.dense !== null || set.docs.length * this.tuning.dense > this.present.length;
  }

  /** `set`'s code for a doc (0: not matched), through per-doc codes for a large set, searched otherwise. */
  private probeOf(set: WordSet): Probe {
    if (this.isLarge(set)) {
      // Made on the first probe: a search may walk a large word's ranked docs (which carry their
      // codes) and never probe it.
      let dense = set.dense;
      return (doc) => {
        dense ??= this.denseOf(set);
        return dense[doc] as number;
      };
    }
    const { docs, codes } = set;
    return (doc) => {
      const at = numberBound(docs, doc);
      return docs[at] === doc ? (codes[at] as number) : 0;
    };
  }

  /** Docs of `set` in the view. */
  private totalOf(set: WordSet, view: View): number {
    let total = set.total[view];
    if (total < 0) {
      total = 0;
      for (let i = 0; i < set.docs.length; i++) if (this.inView(set.docs[i] as number, view)) total++;
      set.total[view] = total;
    }
    return total;
  }

  /** value id → docs of `set` in the view holding it, for the `wanted` facets (others may be 0). */
  private facetCountsOf(set: WordSet, view: View, wanted: readonly number[]): Int32Array {
    let counts = set.facetCounts[view];
    if (!counts) {
      counts = new Int32Array(this.valueText.length);
      set.facetCounts[view] = counts;
      this.keep(set);
    } else {
      // A value a write added after these were counted: none of the set's docs held it then.
      counts = this.countsFor(set, view, counts);
    }
    const counted = set.counted[view];
    const missing = wanted.filter((f) => (counted & (1 << f)) === 0);
    if (missing.length > 0) {
      this.countValues(missing, set.docs, set.docs.length, counts, view);
      for (const f of missing) set.counted[view] |= 1 << f;
    }
    return counts;
  }

  /**
   * The first `n` of `held` (indexes into `docs`, which ascend) in name order. The docs of the slots
   * a build numbered in name order (`NameOrder.sortedBelow`) are in name order already; the few of
   * names created since, sorted by label, are merged in. Only when those are many is every doc keyed
   * by its name position (made again after each new name: a walk of the whole catalog) and radix
   * sorted.
   */
  private inNameOrder(docs: Int32Array, held: Int32Array, n: number): Int32Array {
    const below = this.order.sortedBelow;
    let sorted = 0;
    while (sorted < n && (docs[held[sorted] as number] as number) >> 1 < below) sorted++;
    const later = n - sorted;
    if (later * this.tuning.laterNames > n) {
      const positions = this.order.positions();
      const keys = new Int32Array(n);
      for (let i = 0; i < n; i++) keys[i] = positions[(docs[held[i] as number] as number) >> 1] as number;
      return radixSort(held.slice(0, n), keys, this.order.length);
    }
    const label = this.order.labelArray;
    const labelOf = (i: number) => label[(docs[i] as number) >> 1] as number;
    const tail = held.slice(sorted, n).sort((x, y) => labelOf(x) - labelOf(y));
    const out = new Int32Array(n);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < sorted && j < later) {
      const x = held[i] as number;
      const y = tail[j] as number;
      if (labelOf(x) < labelOf(y)) {
        out[k++] = x;
        i++;
      } else {
        out[k++] = y;
        j++;
      }
    }
    while (i < sorted) out[k++] = held[i++] as number;
    while (j < later) out[k++] = tail[j++] as number;
    return out;
  }

  /**
   * Docs of `set` in the view, best match first, then by name: a relevance page is its head. A
   * counting sort by code over the docs in name order (`inNameOrder`): linear in the set, never a
   * walk of the whole catalog.
   */
  private rankedOf(set: WordSet, view: View, whole = false): Ranked {
    const kept = set.ranked[view];
    if (kept && (kept.complete || !whole)) {
      if (kept.pending === null) return kept;
      if (this.placePending(kept)) {
        this.keep(set);
        return kept;
      }
      set.ranked[view] = null;
    }
    if (!whole && this.order.inSlotOrder && set.docs.length > 2 * this.tuning.rankedHead) {
      const head = this.rankedHead(set, view);
      if (head) return head;
    }
    const { docs, codes } = set;
    // The set's positions in the view, in the shared scratch (nothing else holds it during a rank).
    let held: Int32Array = this.wordTouched;
    let n = 0;
    for (let i = 0; i < docs.length; i++) if (this.inView(docs[i] as number, view)) held[n++] = i;
    if (!this.order.inSlotOrder) held = this.inNameOrder(docs, held, n);
    const byCode = new Int32Array(WEIGHTS.length + 1);
    for (let i = 0; i < n; i++) {
      const c = codes[held[i] as number] as number;
      byCode[c] = (byCode[c] as number) + 1;
    }
    let at = 0;
    for (let c = WEIGHTS.length - 1; c >= 1; c--) {
      const count = byCode[c] as number;
      byCode[c] = at;
      at += count;
    }
    const room = roomFor(n);
    const ranked: Ranked = {
      docs: room.docs.subarray(0, n),
      codes: room.codes.subarray(0, n),
      complete: true,
      pending: null,
      room,
    };
    const { docs: rankedDocs, codes: rankedCodes } = ranked;
    for (let i = 0; i < n; i++) {
      const j = held[i] as number;
      const c = codes[j] as number;
      const place = byCode[c] as number;
      rankedDocs[place] = docs[j] as number;
      rankedCodes[place] = c;
      byCode[c] = place + 1;
    }
    set.ranked[view] = ranked;
    this.keep(set);
    return ranked;
  }

  /**
   * The ranked order of `set` that holds position `i`: `ranked` itself, or the whole order when
   * `ranked` is its head and a walk has gone past it (the whole begins with the same docs); null when
   * the order ends before `i`.
   */
  private reaching(ranked: Ranked, set: WordSet, view: View, i: number): Ranked | null {
    if (i < ranked.docs.length) return ranked;
    if (ranked.complete) return null;
    const whole = this.rankedOf(set, view, true);
    return i < whole.docs.length ? whole : null;
  }

  /**
   * The head of a broad set's ranked order (its first `tuning.rankedHead` docs in the view), made in two
   * passes that write only the head: docs are in name order when slots are, so the head is every
   * doc of the best codes, then the first of the next code's in doc order. Null when the view holds
   * too few of the set's docs for a head to be worth it.
   */
  private rankedHead(set: WordSet, view: View): Ranked | null {
    const { docs, codes } = set;
    const size = this.tuning.rankedHead;
    const byCode = new Int32Array(WEIGHTS.length + 1);
    const n = this.countCodes(docs, codes, view, byCode);
    if (n <= 2 * size) return null;
    // Where each code starts in the head; the last code reached (`cut`) fills what is left of it.
    let at = 0;
    let cut = 1;
    for (let c = WEIGHTS.length - 1; c >= 1; c--) {
      const count = byCode[c] as number;
      byCode[c] = at;
      at += count;
      if (at >= size) {
        cut = c;
        break;
      }
    }
    const room = roomFor(size);
    const rankedDocs = room.docs;
    const rankedCodes = room.codes;
    let placed = 0;
    for (let i = 0; i < docs.length && placed < size; i++) {
      const c = codes[i] as number;
      if (c < cut) continue;
      const doc = docs[i] as number;
      if (!this.inView(doc, view)) continue;
      const place = byCode[c] as number;
      if (place >= size) continue;
      rankedDocs[place] = doc;
      rankedCodes[place] = c;
      byCode[c] = place + 1;
      placed++;
    }
    const ranked: Ranked = {
      docs: rankedDocs.subarray(0, size),
      codes: rankedCodes.subarray(0, size),
      complete: false,
      pending: null,
      room,
    };
    set.ranked[view] = ranked;
    this.keep(set);
    return ranked;
  }

  // --- searching

  /** A doc's score for the query's words (the sets in word order), 0 when it matches none. */
  private scoreOf(doc: number, probes: readonly Probe[], exact: boolean): number {
    let matched = 0;
    let sum = 0;
    for (const probe of probes) {
      const c = probe(doc);
      if (c === 0) continue;
      matched++;
      sum += WEIGHTS[c] as number;
    }
    return matched === 0 ? 0 : scoreFrom(matched, sum, exact);
  }

  /** Marks (bit 2 of `mark`) the docs named exactly as the free text; returns them. */
  private markExact(phrase: string): number[] {
    const exact: number[] = [];
    if (phrase === '') return exact;
    const named = this.slotOf.get(phrase);
    const slots = this.slotsByOtherFold.get(phrase) ?? [];
    for (const slot of named === undefined ? slots : [named, ...slots]) {
      for (const doc of [2 * slot, 2 * slot + 1]) {
        this.mark[doc] = (this.mark[doc] as number) | 2;
        exact.push(doc);
      }
    }
    return exact;
  }

  private unmark(docs: readonly number[]): void {
    for (const doc of docs) this.mark[doc] = 0;
  }

  /**
   * The filtered docs (`filtered` of them, in `filtered`) that match a word, scored, into `hitDocs`
   * and `score`: each filtered doc is looked up in each word's set — in its per-doc codes when the
   * set is large, by walking the set alongside otherwise (both are in doc order).
   */
  private probeFiltered(sets: readonly WordSet[], phrase: string, filtered: number): number {
    const { hitDocs, score, mark } = this;
    const exact = this.markExact(phrase);
    const wordCount = sets.length;
    const dense = sets.map((set) => (this.isLarge(set) ? this.denseOf(set) : null));
    // A set much longer than the filtered docs is searched (galloping on from the last doc found), a
    // shorter one walked alongside.
    const search = sets.map((set) => set.docs.length > 4 * filtered);
    const at = new Int32Array(wordCount);
    const only = this.filtered;
    let n = 0;
    for (let i = 0; i < filtered; i++) {
      const doc = only[i] as number;
      let matched = 0;
      let sum = 0;
      for (let w = 0; w < wordCount; w++) {
        const d = dense[w];
        let c = 0;
        if (d) {
          c = d[doc] as number;
        } else {
          const set = sets[w] as WordSet;
          let j = at[w] as number;
          if (search[w]) {
            j = gallopBound(set.docs, doc, j);
          } else {
            while (j < set.docs.length && (set.docs[j] as number) < doc) j++;
          }
          at[w] = j;
          if (set.docs[j] === doc) c = set.codes[j] as number;
        }
        if (c === 0) continue;
        matched++;
        sum += WEIGHTS[c] as number;
      }
      if (matched === 0) continue;
      score[doc] = scoreFrom(matched, sum, ((mark[doc] as number) & 2) === 2);
      hitDocs[n++] = doc;
    }
    this.unmark(exact);
    return n;
  }

  /**
   * Every doc of the view matching at least one word (and passing `check`), scored, into `hitDocs`
   * and `score` (the caller zeroes them). Returns the number of hits; with `both` (two words), the
   * hits both words match are also put there, `bothCount` of them.
   */
  private searchWords(
    sets: readonly WordSet[],
    phrase: string,
    view: View,
    check: FilterCheck | null = null,
    both: Int32Array | null = null,
  ): number {
    if (sets.length === 2) return this.searchTwo(sets[0] as WordSet, sets[1] as WordSet, phrase, view, check, both);
    if (sets.length === 1) return this.searchOne(sets[0] as WordSet, phrase, view, check);
    const { matched, score, mark, touched, hitDocs } = this;
    let touchedCount = 0;
    const docCount = 2 * this.slotName.length;
    for (const set of sets) {
      const { docs, codes } = set;
      for (let i = 0; i < docs.length; i++) {
        const doc = docs[i] as number;
        if (matched[doc] === 0) touched[touchedCount++] = doc;
        matched[doc] = (matched[doc] as number) + 1;
        score[doc] = (score[doc] as number) + (WEIGHTS[codes[i] as number] as number);
      }
    }
    const exact = this.markExact(phrase);
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
      if (this.inView(doc, view) && (check === null || this.passes(doc, check))) {
        score[doc] = scoreFrom(matched[doc] as number, score[doc] as number, ((mark[doc] as number) & 2) === 2);
        hitDocs[n++] = doc;
      } else {
        score[doc] = 0;
      }
      matched[doc] = 0;
    }
    this.unmark(exact);
    return n;
  }

  /**
   * `searchWords` for one word (a qualified search's usual words): its set is in doc order and each
   * doc's code is at hand, so each doc is checked and scored as it is read, with no counts to gather
   * and clear.
   */
  private searchOne(set: WordSet, phrase: string, view: View, check: FilterCheck | null): number {
    const { score, mark, hitDocs } = this;
    const { docs, codes } = set;
    const exact = this.markExact(phrase);
    let n = 0;
    for (let i = 0; i < docs.length; i++) {
      const doc = docs[i] as number;
      if (!this.inView(doc, view) || (check !== null && !this.passes(doc, check))) continue;
      score[doc] = scoreFrom(1, WEIGHTS[codes[i] as number] as number, ((mark[doc] as number) & 2) === 2);
      hitDocs[n++] = doc;
    }
    this.unmark(exact);
    return n;
  }

  /**
   * `searchWords` for two words: both sets are in doc order, so one merge of the two yields the
   * union in doc order with each doc's matches, with no per-doc counts to keep and clear.
   */
  private searchTwo(
    a: WordSet,
    b: WordSet,
    phrase: string,
    view: View,
    check: FilterCheck | null,
    both: Int32Array | null,
  ): number {
    const { score, mark, hitDocs } = this;
    const exact = this.markExact(phrase);
    const { docs: aDocs, codes: aCodes } = a;
    const { docs: bDocs, codes: bCodes } = b;
    const aEnd = aDocs.length;
    const bEnd = bDocs.length;
    let i = 0;
    let j = 0;
    let n = 0;
    let bothCount = 0;
    while (i < aEnd || j < bEnd) {
      const x = i < aEnd ? (aDocs[i] as number) : DOC_END;
      const y = j < bEnd ? (bDocs[j] as number) : DOC_END;
      let doc: number;
      let matches = 1;
      let sum: number;
      if (x < y) {
        doc = x;
        sum = WEIGHTS[aCodes[i++] as number] as number;
      } else if (y < x) {
        doc = y;
        sum = WEIGHTS[bCodes[j++] as number] as number;
      } else {
        doc = x;
        matches = 2;
        sum = (WEIGHTS[aCodes[i++] as number] as number) + (WEIGHTS[bCodes[j++] as number] as number);
      }
      if (!this.inView(doc, view) || (check !== null && !this.passes(doc, check))) continue;
      score[doc] = scoreFrom(matches, sum, ((mark[doc] as number) & 2) === 2);
      hitDocs[n++] = doc;
      if (both !== null && matches === 2) both[bothCount++] = doc;
    }
    this.bothCount = bothCount;
    this.unmark(exact);
    return n;
  }

  /**
   * Unfiltered words, the largest of which (L) matches more than 1/`broad` of the docs, or one
   * unfiltered word (L alone). L is never walked: its total, facet counts, ranked docs and most
   * recent docs are kept with it. The other words' docs are ORed as bits, a doc per bit; those
   * outside L (read a word of bits at a time) are gathered, scored and counted; those inside it
   * (the overlap) only ever through L's ranked docs. A relevance page is the best of the outside
   * docs and a walk down L's ranked docs that stops once no doc further down can beat the page's
   * last (a doc's score is bounded by its L match and the best the other words can add); an
   * overlap too small for the walk to find soon is scored doc by doc instead. By name, the name
   * order is walked testing the bits; by update time, the outside docs (or, when they are many,
   * the other words' kept most recent docs) compete with L's kept most recent ones.
   */
  private broadSearch(q: IndexQuery, sets: readonly WordSet[]): IndexResult {
    const { view } = q;
    let large = 0;
    sets.forEach((set, w) => {
      if (set.docs.length > (sets[large] as WordSet).docs.length) large = w;
    });
    const largeSet = sets[large] as WordSet;
    // One word alone needs no bits unless a page by name tests them: its total, counts and orders
    // are all kept with it.
    const single = sets.length === 1;
    const lBits = single && q.sort !== 'name' ? null : this.bitsOf(largeSet);
    const viewBits = single ? null : this.viewBitsOf(view);
    const probes = packedMap(sets, (set) => this.probeOf(set));
    const { score, mark, touched: outsideDocs, hitDocs: scored } = this;
    // The other words' docs, a bit per doc: a lone other word's own kept bits when it has them,
    // ORed into the shared `others` otherwise.
    const lone = sets.length === 2 ? (sets[1 - large] as WordSet) : null;
    let others: Uint32Array = this.others;
    const words = this.bitWords();
    if (lone !== null && (lone.bits !== null || this.isLarge(lone))) {
      others = this.bitsOf(lone);
    } else {
      // Three words or more are walked by their bits (`manyWords`): each set's are made here.
      const allBits = sets.length > 2;
      const ored: Uint32Array[] = [];
      const listed: WordSet[] = [];
      for (let w = 0; w < sets.length; w++) {
        if (w === large) continue;
        const set = sets[w] as WordSet;
        if (allBits || set.bits !== null || this.isLarge(set)) ored.push(this.bitsOf(set));
        else listed.push(set);
      }
      // The bits first (they set every word), then the docs of the words without bits of their own.
      orAll(others, ored, words);
      for (const set of listed) orDocs(others, set.docs);
    }
    // A lone other word holding fewer docs than the bits have words is walked doc by doc (its docs are
    // in doc order, as a pass over the bits would yield them) rather than every word of the bits read;
    // the walk gathers the overlap as it goes.
    const walkLone = lone !== null && lone.docs.length < words;
    let outside = 0;
    let overlap = 0;
    if (walkLone && lBits !== null && viewBits !== null) {
      const { docs, codes } = lone;
      const { filtered: overlapping, filteredCodes: overlapCodes, touchedCodes: outsideCodes } = this;
      for (let i = 0; i < docs.length; i++) {
        const doc = docs[i] as number;
        if ((((viewBits[doc >> 5] as number) >>> (doc & 31)) & 1) === 0) continue;
        if ((((lBits[doc >> 5] as number) >>> (doc & 31)) & 1) === 1) {
          overlapCodes[overlap] = codes[i] as number;
          overlapping[overlap++] = doc;
        } else {
          outsideCodes[outside] = codes[i] as number;
          outsideDocs[outside++] = doc;
        }
      }
    }
    if (!walkLone && lBits !== null && viewBits !== null) {
      for (let i = 0; i < words; i++) {
        const o = (others[i] as number) & (viewBits[i] as number);
        if (o === 0) continue;
        const l = lBits[i] as number;
        if ((o & l) !== 0) overlap += popcount(o & l);
        let x = o & ~l;
        while (x !== 0) {
          const low = x & -x;
          x ^= low;
          outsideDocs[outside++] = (i << 5) + 31 - Math.clz32(low);
        }
      }
    }
    /**
     * The overlap (docs of the view in L and in another word) into `filtered`, in doc order; how
     * many. Gathered once (by the walk of a lone word above, or on first ask): facets and scoring
     * may both ask, and nothing else writes `filtered` here.
     */
    let overlapCount = walkLone ? overlap : -1;
    const overlapDocs = (): number => {
      if (overlapCount >= 0) return overlapCount;
      const out = this.filtered;
      let n = 0;
      for (let i = 0; i < words; i++) {
        let x =
          (others[i] as number) & ((viewBits as Uint32Array)[i] as number) & ((lBits as Uint32Array)[i] as number);
        while (x !== 0) {
          const low = x & -x;
          x ^= low;
          out[n++] = (i << 5) + 31 - Math.clz32(low);
        }
      }
      overlapCount = n;
      return n;
    };
    const exact = this.markExact(q.phrase);
    let nScored = 0;
    const scoreFor = (doc: number): void => {
      score[doc] = this.scoreOf(doc, probes, ((mark[doc] as number) & 2) === 2);
      mark[doc] = (mark[doc] as number) | 16;
      scored[nScored++] = doc;
    };
    /** A doc matching `matched` words, one of them with `code`, the other (if any) found by `probe`. */
    const scoreKnown = (doc: number, matched: 1 | 2, code: number, probe: Probe | null): void => {
      const other = probe === null ? 0 : (WEIGHTS[probe(doc)] as number);
      score[doc] = scoreFrom(matched, (WEIGHTS[code] as number) + other, ((mark[doc] as number) & 2) === 2);
      mark[doc] = (mark[doc] as number) | 16;
      scored[nScored++] = doc;
    };
    try {
      const total = this.totalOf(largeSet, view) + outside;
      let facets: FacetCounts;
      if (q.facets.length === 0) facets = FacetCounts.none(q.facets);
      else if (sets.length === 2 && overlap < outside) {
        // Two words overlapping less than the other one holds outside L: both words' kept counts
        // less the overlap's.
        facets = this.twoWordFacets(q, sets, this.filtered, overlapDocs());
      } else {
        const wanted = facetIndexes(q.facets);
        const ofLarge = this.facetCountsOf(largeSet, view, wanted);
        const { counts } = this;
        this.countValues(wanted, outsideDocs, outside);
        facets = this.facetLists(
          wanted,
          (id) => (ofLarge[id] as number) + (counts[id] as number),
          q.facets,
          q.facetLimit,
        );
        this.clearCounts(wanted);
      }
      const need = q.offset + q.limit;
      const label = this.order.labelArray;
      let page: number[];
      let more = need < total;
      if (q.sort === 'name') {
        ({ page, more } = this.byNameInBits(lBits as Uint32Array, others, view, q.after, q.limit));
      } else if (q.sort === 'updated') {
        const top = new TopDocs(need, this.updated, label);
        if (outside <= this.tuning.overlap * (need + 16)) {
          for (let i = 0; i < outside; i++) top.push(outsideDocs[i] as number);
          for (const doc of this.recentOf(largeSet, view, need)) top.push(doc);
        } else {
          // Many docs outside L: the union's most recent are among each word's kept most recent
          // (a doc that is not among its own word's first `need` has `need` of the union before it).
          // A doc in more than one word's list is pushed once (marked scored, cleared below).
          for (const set of sets) {
            for (const doc of this.recentOf(set, view, need)) {
              if (((mark[doc] as number) & 16) !== 0) continue;
              mark[doc] = (mark[doc] as number) | 16;
              scored[nScored++] = doc;
              top.push(doc);
            }
          }
        }
        page = top.sorted().slice(q.offset);
      } else {
        const top = new TopDocs(need, score, label);
        let outsideWalk = false;
        if (sets.length > 2) nScored = this.manyWords(sets, probes, viewBits as Uint32Array, top, nScored);
        else if (sets.length === 1 || outside <= this.tuning.overlap * (need + 16)) {
          // The lone word's walk kept each outside doc's code: it matches that word alone.
          const codes = walkLone ? this.touchedCodes : null;
          for (let i = 0; i < outside; i++) {
            const doc = outsideDocs[i] as number;
            if (codes !== null) scoreKnown(doc, 1, codes[i] as number, null);
            else scoreFor(doc);
            top.push(doc);
          }
        } else {
          // Many docs of the other word outside L: they match it alone, so they rank in its order,
          // and are walked after L (below) only as far as they can reach the page.
          outsideWalk = true;
        }
        // Docs named as the free text rank by a bonus no bound below counts: scored up front.
        for (const doc of exact) {
          const inOthers = ((others[doc >> 5] as number) >>> (doc & 31)) & 1;
          const inUnion = inOthers === 1 || (probes[large] as Probe)(doc) !== 0;
          if (((mark[doc] as number) & 16) === 0 && inUnion && this.inView(doc, view)) {
            scoreFor(doc);
            top.push(doc);
          }
        }
        let ranked = this.rankedOf(largeSet, view);
        // The overlap of two words is met by walking both words' ranked docs side by side (a doc
        // neither walk has reached scores at most what both walks' current matches add); more words,
        // or an overlap small enough, are scored doc by doc. Once the overlap is scored (or the other
        // word's walk has ended) every doc of L left matches L alone, and ranks in L's order.
        let alone = sets.length > 2 || overlap <= this.tuning.overlap * (need + 16);
        const scoreOverlap = () => {
          const n = overlapDocs();
          // Gathered by the lone word's walk, each overlap doc comes with that word's code; gathered
          // from the bits, the other word's codes are found first, moving forward through its docs.
          if (!walkLone) this.codesInto(sets[1 - large] as WordSet, this.filtered, n, this.filteredCodes);
          nScored = this.scoreBoth(n, largeSet, top, nScored);
        };
        if (alone && sets.length === 2) scoreOverlap();
        const otherWord = 1 - large;
        let otherRanked = alone ? null : this.rankedOf(sets[otherWord] as WordSet, view);
        let atOther = 0;
        const budget = this.tuning.walk * (need + 16);
        for (let i = 0; ; i++) {
          const reached = this.reaching(ranked, largeSet, view, i);
          if (reached === null) break;
          ranked = reached;
          const doc = ranked.docs[i] as number;
          const c = ranked.codes[i] as number;
          const paired = alone ? null : otherRanked;
          const pairing = paired !== null;
          const otherAt = pairing ? (paired.docs[atOther] as number) : doc;
          const otherCode = pairing ? (paired.codes[atOther] as number) : 0;
          const bound = pairing
            ? scoreFrom(2, (WEIGHTS[c] as number) + (WEIGHTS[otherCode] as number), false)
            : scoreFrom(1, WEIGHTS[c] as number, false);
          if (top.full) {
            const worst = top.worst;
            const last = score[worst] as number;
            // A doc neither walk has reached that could tie the page's last comes after both walks'
            // current docs in name order (each walk is in name order within a match code).
            const tieLoses =
              (label[doc >> 1] as number) > (label[worst >> 1] as number) ||
              (label[otherAt >> 1] as number) > (label[worst >> 1] as number);
            if (bound < last || (bound === last && tieLoses)) break;
          }
          if (((mark[doc] as number) & 18) === 0) {
            const inOthers = ((others[doc >> 5] as number) >>> (doc & 31)) & 1;
            if (inOthers === 0) {
              score[doc] = scoreFrom(1, WEIGHTS[c] as number, false);
              mark[doc] = (mark[doc] as number) | 16;
              scored[nScored++] = doc;
              top.push(doc);
            } else if (!alone) {
              scoreKnown(doc, 2, c, probes[1 - large] as Probe);
              top.push(doc);
            }
          }
          if (alone || otherRanked === null) continue;
          const next = otherRanked.docs[atOther] as number;
          const nextCode = otherRanked.codes[atOther++] as number;
          const nextInLarge = (((lBits as Uint32Array)[next >> 5] as number) >>> (next & 31)) & 1;
          if (((mark[next] as number) & 18) === 0 && nextInLarge === 1) {
            scoreKnown(next, 2, nextCode, probes[large] as Probe);
            top.push(next);
          }
          const otherReached = this.reaching(otherRanked, sets[otherWord] as WordSet, view, atOther);
          if (otherReached === null) {
            alone = true;
          } else {
            otherRanked = otherReached;
            if (i >= budget) {
              // The overlap holds few docs as good as the page: score it whole, then walk on for L alone.
              alone = true;
              scoreOverlap();
            }
          }
        }
        if (outsideWalk) {
          const other = 1 - large;
          let otherRanked = this.rankedOf(sets[other] as WordSet, view);
          for (let i = 0; ; i++) {
            const reached = this.reaching(otherRanked, sets[other] as WordSet, view, i);
            if (reached === null) break;
            otherRanked = reached;
            const doc = otherRanked.docs[i] as number;
            const c = otherRanked.codes[i] as number;
            const bound = scoreFrom(1, WEIGHTS[c] as number, false);
            if (top.full) {
              const worst = top.worst;
              const last = score[worst] as number;
              if (bound < last || (bound === last && (label[doc >> 1] as number) > (label[worst >> 1] as number)))
                break;
            }
            if (((mark[doc] as number) & 18) !== 0 || (((lBits as Uint32Array)[doc >> 5] as number) >>> (doc & 31)) & 1)
              continue;
            score[doc] = bound;
            mark[doc] = (mark[doc] as number) | 16;
            scored[nScored++] = doc;
            top.push(doc);
          }
        }
        page = top.sorted().slice(q.offset);
        return {
          hits: page.map((doc) => ({
            doc,
            name: this.slotName[doc >> 1] as string,
            score: publicScore(score[doc] as number),
          })),
          more,
          total,
          facets,
        };
      }
      return {
        hits: page.map((doc) => ({
          doc,
          name: this.slotName[doc >> 1] as string,
          score: publicScore(this.scoreOf(doc, probes, ((mark[doc] as number) & 2) === 2)),
        })),
        more,
        total,
        facets,
      };
    } finally {
      for (let i = 0; i < nScored; i++) {
        const doc = scored[i] as number;
        score[doc] = 0;
        mark[doc] = (mark[doc] as number) & ~16;
      }
      this.unmark(exact);
    }
  }

  /**
   * `set`'s code of each of the first `n` of `docs` (ascending, every one in `set`) into `out`: from
   * its per-doc codes when it has them, otherwise by a gallop on from the last doc found, rather than
   * a search of the whole list per doc.
   */
  private codesInto(set: WordSet, docs: Int32Array, n: number, out: Uint8Array): void {
    if (this.isLarge(set)) {
      const dense = this.denseOf(set);
      for (let i = 0; i < n; i++) out[i] = dense[docs[i] as number] as number;
      return;
    }
    const { docs: setDocs, codes } = set;
    let at = 0;
    for (let i = 0; i < n; i++) {
      at = gallopBound(setDocs, docs[i] as number, at);
      out[i] = codes[at] as number;
    }
  }

  /**
   * The first `n` docs of `filtered`, each in both of two words (`filteredCodes` holding the other
   * word's code), not yet scored: scored, marked (16), listed in `scored` and pushed to `top`.
   * Returns the new length of `scored`.
   */
  private scoreBoth(n: number, large: WordSet, top: TopDocs, nScored: number): number {
    const { filtered, filteredCodes, score, mark, hitDocs: scored } = this;
    // L's code of each doc: from its per-doc codes when it has them, otherwise found moving forward
    // through its docs (both lists ascend), each search starting where the last ended.
    const dense = this.isLarge(large) ? this.denseOf(large) : null;
    const { docs: lDocs, codes: lCodes } = large;
    let at = 0;
    let count = nScored;
    for (let i = 0; i < n; i++) {
      const doc = filtered[i] as number;
      const m = mark[doc] as number;
      if ((m & 16) !== 0) continue;
      let code: number;
      if (dense !== null) code = dense[doc] as number;
      else {
        at = gallopBound(lDocs, doc, at);
        code = lCodes[at] as number;
      }
      const sum = (WEIGHTS[code] as number) + (WEIGHTS[filteredCodes[i] as number] as number);
      score[doc] = scoreFrom(2, sum, (m & 2) === 2);
      mark[doc] = m | 16;
      scored[count++] = doc;
      top.push(doc);
    }
    return count;
  }

  /**
   * The page candidates of three or more words: the words are walked fewest docs first, each doc met
   * for the first time scored whole — its match count from every word's bits, its weights probed only
   * when that count can still reach the page. A doc in none of the `j` words walked matches at most
   * the `n - j` left, and every word matched outranks any sum of weights, so once the page's last
   * outranks that bound no unmet doc can reach it and the walk stops: a pasted name, whose rarest
   * word's docs include the few that match every word, is answered from that word's docs alone
   * rather than from a walk of every doc of `aws`, `eu` and `1`. The docs scored join `scored` (the
   * caller's cleanup), marked scored (16), and are pushed to `top`. Returns the new length of `scored`.
   */
  private manyWords(
    sets: readonly WordSet[],
    probes: readonly Probe[],
    viewBits: Uint32Array,
    top: TopDocs,
    nScored: number,
  ): number {
    const n = sets.length;
    const order = sets
      .map((_, w) => w)
      .sort((a, b) => (sets[a] as WordSet).docs.length - (sets[b] as WordSet).docs.length);
    // In walk order: each word's set, bits, and probe when it is large (null: the set is searched).
    const walkSets = packedMap(order, (w) => sets[w] as WordSet);
    const bits = packedMap(walkSets, (set) => this.bitsOf(set));
    const walkProbes = packedMap(order, (w) => (this.isLarge(sets[w] as WordSet) ? (probes[w] as Probe) : null));
    let scoredNow = nScored;
    for (let j = 0; j < n; j++) {
      if (top.full && scoreFrom(n - j, (n - j) * BEST_WEIGHT, false) < (this.score[top.worst] as number)) break;
      scoredNow = this.walkScoring(walkSets, j, bits, walkProbes, viewBits, top, scoredNow);
    }
    return scoredNow;
  }

  /**
   * `manyWords`' walk of the `j`-th word (in walk order): each of its docs in the view that no word
   * walked before holds, scored unless its match count (from the bits of the words after it) cannot
   * reach the page. A function of its own (see `packedMap`).
   */
  private walkScoring(
    walkSets: readonly WordSet[],
    j: number,
    bits: readonly Uint32Array[],
    walkProbes: readonly (Probe | null)[],
    viewBits: Uint32Array,
    top: TopDocs,
    nScored: number,
  ): number {
    const { score, mark, hitDocs: scored } = this;
    const { docs, codes } = walkSets[j] as WordSet;
    const n = bits.length;
    // Where each later word's docs were last found: this word's docs ascend, so each later word's
    // are met ascending too, and a doc is found by a gallop on from there rather than a binary
    // search of the whole list (a pasted name's words hold thousands of docs each).
    const at = this.walkAt;
    at.fill(0);
    let count = nScored;
    for (let i = 0; i < docs.length; i++) {
      const doc = docs[i] as number;
      const word = doc >> 5;
      const bit = doc & 31;
      if ((((viewBits[word] as number) >>> bit) & 1) === 0) continue;
      let before = 0;
      for (let k = 0; k < j; k++) before |= (bits[k] as Uint32Array)[word] as number;
      if (((before >>> bit) & 1) === 1) continue;
      let m = 1;
      for (let k = j + 1; k < n; k++) m += (((bits[k] as Uint32Array)[word] as number) >>> bit) & 1;
      const exact = ((mark[doc] as number) & 2) === 2;
      if (top.full && scoreFrom(m, m * BEST_WEIGHT, exact) < (score[top.worst] as number)) continue;
      let sum = WEIGHTS[codes[i] as number] as number;
      for (let k = j + 1; k < n; k++) {
        if (((((bits[k] as Uint32Array)[word] as number) >>> bit) & 1) === 0) continue;
        const probe = walkProbes[k] as Probe | null;
        if (probe !== null) sum += WEIGHTS[probe(doc)] as number;
        else {
          const other = walkSets[k] as WordSet;
          // The bit says the doc is there: the gallop lands on it.
          const found = gallopBound(other.docs, doc, at[k] as number);
          at[k] = found;
          sum += WEIGHTS[other.codes[found] as number] as number;
        }
      }
      score[doc] = scoreFrom(m, sum, exact);
      mark[doc] = (mark[doc] as number) | 16;
      scored[count++] = doc;
      top.push(doc);
    }
    return count;
  }

  /** Zeroes the shared `counts` of the wanted facets' values after a count over them was read. */
  private clearCounts(wanted: readonly number[]): void {
    const { counts } = this;
    for (const f of wanted) for (const id of this.facetIds[f] as number[]) counts[id] = 0;
  }

  /** Facets of two words' union: each word's kept counts less those of the `n` docs of `both` they share. */
  private twoWordFacets(q: IndexQuery, sets: readonly WordSet[], both: Int32Array, n: number) {
    const wanted = facetIndexes(q.facets);
    const [a, b] = sets.map((set) => this.facetCountsOf(set, q.view, wanted)) as [Int32Array, Int32Array];
    const { counts } = this;
    this.countValues(wanted, both, n);
    const facets = this.facetLists(
      wanted,
      (id) => (a[id] as number) + (b[id] as number) - (counts[id] as number),
      q.facets,
      q.facetLimit,
    );
    this.clearCounts(wanted);
    return facets;
  }

  /** A page in name order after `after` of the view's docs in L's bits or the other words' bits. */
  private byNameInBits(lBits: Uint32Array, others: Uint32Array, view: View, after: string, limit: number) {
    const page: number[] = [];
    for (let i = after === '' ? 0 : this.order.after(after); i < this.order.length; i++) {
      const slot = this.order.at(i);
      if (this.present[2 * slot] === 0) continue;
      const doc = this.viewDoc(slot, view);
      if (((((lBits[doc >> 5] as number) | (others[doc >> 5] as number)) >>> (doc & 31)) & 1) === 0) continue;
      if (page.length === limit) return { page, more: true };
      page.push(doc);
    }
    return { page, more: false };
  }

  /** The `need` most recently updated docs of `set` in the view (kept: at least `RECENT_KEPT`). */
  private recentOf(set: WordSet, view: View, need: number): Int32Array {
    const kept = set.recent[view];
    if (kept && (kept.length >= need || kept.length === this.totalOf(set, view))) return kept;
    const pool = this.wordTouched;
    const n = this.viewDocsInto(set.docs, view, pool);
    const recent = Int32Array.from(topDocs(pool, n, Math.max(need, RECENT_KEPT), this.updated, this.order.labelArray));
    set.recent[view] = recent;
    this.keep(set);
    return recent;
  }

  /**
   * Each doc of `terms`' postings with the best code it has among them, into `wordBest` (listed in
   * `wordTouched`); how many docs. `gatheredAscending`: whether they were met in doc order.
   */
  private gatherPostings(terms: Map<string, number>): number {
    const { wordBest, wordTouched } = this;
    let count = 0;
    // Each posting list is in doc order as long as docs were indexed in order; a word with one
    // expansion then needs no sort.
    let ascending = true;
    let last = -1;
    for (const [term, quality] of terms) {
      const code = WEIGHT_CODE.get(quality) as Uint8Array;
      const list = this.postings.get(term) as number[];
      for (let i = 0; i < list.length; i++) {
        const entry = list[i] as number;
        const doc = entry >> 2;
        const c = code[entry & 3] as number;
        const best = wordBest[doc] as number;
        if (best === 0) {
          wordTouched[count++] = doc;
          if (doc < last) ascending = false;
          last = doc;
        }
        if (c > best) wordBest[doc] = c;
      }
    }
    this.gatheredAscending = ascending;
    return count;
  }

  /** The `count` docs `gatherPostings` left in `wordBest`, in doc order with their codes, into `docs` and `codes`; clears `wordBest`. */
  private drainGathered(count: number, docs: Int32Array, codes: Uint8Array): void {
    const { wordBest, wordTouched } = this;
    const ascending = this.gatheredAscending;
    if (count * 8 > wordBest.length) {
      // Most of the catalog: a pass over the codes yields the docs in order, cheaper than a sort.
      let n = 0;
      for (let doc = 0; n < count; doc++) {
        const c = wordBest[doc] as number;
        if (c === 0) continue;
        docs[n] = doc;
        codes[n++] = c;
        wordBest[doc] = 0;
      }
    } else {
      if (ascending) {
        docs.set(wordTouched.subarray(0, count));
      } else if (count > 256) {
        // A bit per doc read back in order: cheaper than a comparison sort past a few hundred docs.
        const bits = this.sortBits;
        for (let i = 0; i < count; i++) {
          const doc = wordTouched[i] as number;
          bits[doc >> 5] = (bits[doc >> 5] as number) | (1 << (doc & 31));
        }
        let n = 0;
        for (let w = 0; n < count; w++) {
          let x = bits[w] as number;
          if (x === 0) continue;
          bits[w] = 0;
          while (x !== 0) {
            const low = x & -x;
            x ^= low;
            docs[n++] = (w << 5) + 31 - Math.clz32(low);
          }
        }
      } else {
        docs.set(wordTouched.subarray(0, count));
        docs.sort();
      }
      for (let i = 0; i < count; i++) {
        const doc = docs[i] as number;
        codes[i] = wordBest[doc] as number;
        wordBest[doc] = 0;
      }
    }
  }

  /** How many of `docs` are in the view, and of those how many have each code (into `byCode`). A loop apart (see `viewDocsInto`). */
  private countCodes(docs: Int32Array, codes: Uint8Array, view: View, byCode: Int32Array): number {
    let n = 0;
    for (let i = 0; i < docs.length; i++) {
      if (!this.inView(docs[i] as number, view)) continue;
      const c = codes[i] as number;
      byCode[c] = (byCode[c] as number) + 1;
      n++;
    }
    return n;
  }

  /**
   * The docs of `docs` in the view, into `out`; how many. A loop of its own, called by functions that
   * run once per new set: V8 (Node 20) compiles such a function from inside its loop (on-stack
   * replacement) and keeps that code when what follows the loop meets a case it had not seen then,
   * so every later call left the compiled code there for the interpreter (docs/benchmarks.md).
   */
  private viewDocsInto(docs: Int32Array, view: View, out: Int32Array): number {
    let n = 0;
    for (let i = 0; i < docs.length; i++) {
      const doc = docs[i] as number;
      if (this.inView(doc, view)) out[n++] = doc;
    }
    return n;
  }

  /** A bit per doc of `set`, made on first use. */
  private bitsOf(set: WordSet): Uint32Array {
    if (set.bits) return set.bits;
    const bits = docBits(set.docs, this.others.length);
    set.bits = bits;
    this.keep(set);
    return bits;
  }

  /**
   * The words of a bit per doc array that can hold a present doc: the arrays are sized to the
   * capacity (a quarter of it unused at 100 000 names), and no doc is past twice the slots.
   */
  private bitWords(): number {
    return Math.min(this.others.length, ((2 * this.slotName.length) >> 5) + 1);
  }

  /** A bit per doc in the view, made on first use after a change. */
  private viewBitsOf(view: View): Uint32Array {
    let bits = this.viewBits[view];
    if (bits) return bits;
    bits = new Uint32Array(this.others.length);
    for (let slot = 0; slot < this.slotName.length; slot++) {
      if (this.present[2 * slot] === 0) continue;
      const doc = this.viewDoc(slot, view);
      bits[doc >> 5] = (bits[doc >> 5] as number) | (1 << (doc & 31));
    }
    this.viewBits[view] = bits;
    return bits;
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
      for (const w of candidates) if (!out.has(w) && matchQuality(word, w) === TYPO) out.set(w, TYPO);
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
    const wanted = facetIndexes(facets);
    const { counts } = this;
    if (3 * n <= 2 * this.size) {
      this.countValues(wanted, docs, n);
      const out = this.facetLists(wanted, (id) => counts[id] as number, facets, limit);
      this.clearCounts(wanted);
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
    this.clearCounts(wanted);
    return out;
  }

  /** Adds the values of the `wanted` facets held by the first `n` of `docs` to `counts`, in one pass. */
  private countValues(
    wanted: readonly number[],
    docs: Int32Array,
    n: number,
    counts: Int32Array = this.counts,
    view: View | -1 = -1,
  ): void {
    const labels = wanted.filter((f) => !PROFILE_FACETS.has(f));
    const labelMask = labels.reduce((mask, f) => mask | (1 << f), 0);
    const wantedMask = wanted.reduce((mask, f) => mask | (1 << f), 0);
    const byProfile = labels.length < wanted.length;
    const profiles = this.countDocValues(docs, n, view, byProfile, labelMask, counts);
    if (byProfile) this.addProfileCounts(wantedMask, profiles, counts);
  }

  /**
   * `countValues`' pass over the docs: each met profile's count (listed in `profilesMet`; how many
   * is returned) and the label values of `labelMask` into `counts`. Apart from what reads the
   * profiles back, so the code compiled from inside this loop holds nothing it has not run (see
   * `viewDocsInto`).
   */
  private countDocValues(
    docs: Int32Array,
    n: number,
    view: View | -1,
    byProfile: boolean,
    labelMask: number,
    counts: Int32Array,
  ): number {
    const { profile, profileCounts, valueFacet } = this;
    const { ids: valueIds, starts, counts: idCounts } = this.docValues.raw();
    // The profiles met are listed, so only they are read back (a word's docs meet a fraction of the
    // catalog's thousands of profiles).
    const met = this.profilesMet;
    let profiles = 0;
    for (let i = 0; i < n; i++) {
      const doc = docs[i] as number;
      if (view !== -1 && !this.inView(doc, view)) continue;
      if (byProfile) {
        const p = profile[doc] as number;
        const was = profileCounts[p] as number;
        if (was === 0) met[profiles++] = p;
        profileCounts[p] = was + 1;
      }
      if (labelMask !== 0) {
        const end = (starts[doc] as number) + (idCounts[doc] as number);
        for (let v = starts[doc] as number; v < end; v++) {
          const id = valueIds[v] as number;
          if ((labelMask >> (valueFacet[id] as number)) & 1) counts[id] = (counts[id] as number) + 1;
        }
      }
    }
    return profiles;
  }

  /** Adds the values of `mask` of the first `profiles` profiles listed in `profilesMet`, each its count times. */
  private addProfileCounts(wantedMask: number, profiles: number, counts: Int32Array): void {
    const { profileCounts } = this;
    const met = this.profilesMet;
    const { start, values } = this.profileValuesOf(wantedMask);
    for (let i = 0; i < profiles; i++) {
      const p = met[i] as number;
      const times = profileCounts[p] as number;
      profileCounts[p] = 0;
      const end = start[p + 1] as number;
      for (let v = start[p] as number; v < end; v++) {
        const id = values[v] as number;
        counts[id] = (counts[id] as number) + times;
      }
    }
  }

  /**
   * Each profile's values of the facets in `mask`, flattened (profile p's are `values[start[p]]` up to
   * `values[start[p + 1]]`): a count read back per profile adds them without testing each value's
   * facet. Made once per mask, again when profiles were added.
   */
  private profileValuesOf(mask: number): ProfileValues {
    const profiles = this.profileValues.length;
    const kept = this.profileValuesByMask.get(mask);
    if (kept && kept.profiles === profiles) return kept;
    const start = new Int32Array(profiles + 1);
    const values: number[] = [];
    for (let p = 0; p < profiles; p++) {
      start[p] = values.length;
      for (const id of this.profileValues[p] as Int32Array) {
        if ((mask >> (this.valueFacet[id] as number)) & 1) values.push(id);
      }
    }
    start[profiles] = values.length;
    const made = { profiles, start, values: Int32Array.from(values) };
    this.profileValuesByMask.set(mask, made);
    return made;
  }

  private viewFacets(view: View, facets: readonly Facet[], limit: number) {
    const counts = this.viewCount[view];
    return this.facetLists(facetIndexes(facets), (id) => counts[id] as number, facets, limit);
  }

  /** Each wanted facet's values with a count above zero, most frequent first, at most `limit`. */
  private facetLists(
    wanted: number[],
    countOf: (id: number) => number,
    facets: readonly Facet[],
    limit: number,
  ): FacetCounts {
    return FacetCounts.build(
      this.valueTable,
      facets,
      (f) => this.facetIds[wanted[f] as number] as number[],
      countOf,
      limit,
    );
  }
}

/**
 * The filter memo's key of a combination of value ids: the same values in any order are one
 * combination. Two values or fewer (most lists and qualified searches) make a number, built without
 * allocating; more make a string of the ids in ascending order.
 */
function filterKey(ids: readonly number[], view: View, orphaned: boolean): number | string {
  const flags = view * 2 + (orphaned ? 1 : 0);
  if (ids.length === 1 || ids.length === 2) {
    const a = ids[0] as number;
    const b = ids[ids.length - 1] as number;
    // The lower id and the higher, each plus one, the higher 0 for one value alone; with ids below
    // 2^24 the number stays below 2^53, exact.
    if (a < FILTER_KEY_ID_LIMIT && b < FILTER_KEY_ID_LIMIT) {
      const lo = Math.min(a, b) + 1;
      const hi = ids.length === 2 ? Math.max(a, b) + 1 : 0;
      return (lo * FILTER_KEY_ID_LIMIT * 2 + hi) * 4 + flags;
    }
  }
  return `${flags}:${[...ids].sort((x, y) => x - y).join(',')}`;
}

/** The words of a version with the best field group each was found in. */
function documentWords(def: ComponentDefinition): Map<string, number> {
  const out = new Map<string, number>();
  addWords(def.name, NAME, out);
  addWords(def.resource_type, META, out);
  addWords(def.category, META, out);
  addWords(def.provider, META, out);
  for (const key of Object.keys(def.labels)) {
    addWords(key, ATTRS, out);
    addWords(def.labels[key] as string, ATTRS, out);
  }
  for (const i of def.required_inputs) addWords(i.name, ATTRS, out);
  for (const i of def.optional_inputs) addWords(i.name, ATTRS, out);
  for (const o of def.outputs) addWords(o.name, ATTRS, out);
  addWords(def.description, DESCRIPTION, out);
  return out;
}

/** Inserts `doc` at `at`: in the spare room of the arrays `e` heads when they have some, a larger copy otherwise. */
function insertEntry(e: Entries, at: number, doc: number, code: number): void {
  const n = e.docs.length;
  let room = e.room;
  if (room.docs.length === n) {
    const { docs, codes } = arraysOf(grownCapacity(n));
    docs.set(e.docs.subarray(0, at));
    docs.set(e.docs.subarray(at), at + 1);
    codes.set(e.codes.subarray(0, at));
    codes.set(e.codes.subarray(at), at + 1);
    room = { docs, codes };
  } else {
    room.docs.copyWithin(at + 1, at, n);
    room.codes.copyWithin(at + 1, at, n);
  }
  room.docs[at] = doc;
  room.codes[at] = code;
  e.room = room;
  e.docs = room.docs.subarray(0, n + 1);
  e.codes = room.codes.subarray(0, n + 1);
}

/** Takes out the entry at `at`, in place. */
function removeEntry(e: Entries, at: number): void {
  const n = e.docs.length;
  const { room } = e;
  room.docs.copyWithin(at, at + 1, n);
  room.codes.copyWithin(at, at + 1, n);
  e.docs = room.docs.subarray(0, n - 1);
  e.codes = room.codes.subarray(0, n - 1);
}

/**
 * Arrays for `n` entries and a little more: the writes of a while then take their place in them,
 * rather than each kept list being copied into larger arrays by the first write after it was made.
 */
function roomFor(n: number): RankedArrays {
  return arraysOf(n + (n >> 6) + 8);
}

/**
 * Entries for a list of `n` that outgrew its room: an eighth spare, so names published one after
 * another land at the end, each in the room left.
 */
function grownCapacity(n: number): number {
  return n + (n >> 3) + 16;
}

/** Bytes entries hold, spare room included. */
function entriesBytes(e: Entries): number {
  return e.room.docs.byteLength + e.room.codes.byteLength;
}

/**
 * One string naming an expansion (indexed word → match quality): the same for every query word
 * reaching the same words at the same qualities, whatever order `expand` found them in.
 */
function expansionKey(terms: ReadonlyMap<string, number>): string {
  if (terms.size === 1) for (const [term, quality] of terms) return `${term}\u0001${quality}`;
  return [...terms]
    .map(([term, quality]) => `${term}\u0001${quality}`)
    .sort()
    .join('\u0002');
}

/**
 * How query word `word` matches indexed word `w`: EXACT, PREFIX, TYPO (one edit from five letters,
 * `w` at most `DELETION_MAX` letters unless shorter than `word`: the words `expand` reaches through
 * one-letter deletions), or 0.
 */
function matchQuality(word: string, w: string): number {
  if (w.startsWith(word)) return w.length === word.length ? EXACT : PREFIX;
  const reached = w.length <= DELETION_MAX || w.length < word.length;
  return word.length >= TYPO_MIN_LENGTH && reached && withinOneEdit(word, w) ? TYPO : 0;
}

/** The facet values of a version (engines and labels may be several). */

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

/** The first index at or after `from` whose value is not below `value` (`sorted` ascending). */
function numberBound(sorted: ArrayLike<number>, value: number, from = 0, to = sorted.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `numberBound` from `from` on, by steps doubling from `from` before the search: the value sought is
 * usually near, as when a list is walked ascending alongside another.
 */
function gallopBound(sorted: ArrayLike<number>, value: number, from: number): number {
  let lo = from;
  let step = 1;
  while (lo + step < sorted.length && (sorted[lo + step] as number) < value) {
    lo += step;
    step *= 2;
  }
  return numberBound(sorted, value, lo, Math.min(sorted.length, lo + step + 1));
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

/** The first `k` docs pushed: highest `key` first (none: name order alone), ties by name label. */
class TopDocs {
  /** Max-heap by `before`: the root is the last of the best k so far. */
  private readonly heap: number[] = [];
  private readonly k: number;
  private readonly key: Float64Array | null;
  private readonly label: Float64Array;

  constructor(k: number, key: Float64Array | null, label: Float64Array) {
    this.k = k;
    this.key = key;
    this.label = label;
  }

  /** Whether `k` docs are held: a doc must then come before `worst` to enter. */
  get full(): boolean {
    return this.heap.length >= this.k;
  }

  /** The last of the best docs held. */
  get worst(): number {
    return this.heap[0] as number;
  }

  private before(a: number, b: number): boolean {
    const { key, label } = this;
    if (key !== null) {
      const ka = key[a] as number;
      const kb = key[b] as number;
      if (ka !== kb) return ka > kb;
    }
    return (label[a >> 1] as number) < (label[b >> 1] as number);
  }

  push(doc: number): void {
    const { heap } = this;
    if (this.k <= 0) return;
    if (heap.length < this.k) {
      let c = heap.length;
      heap.push(doc);
      while (c > 0) {
        const p = (c - 1) >> 1;
        const parent = heap[p] as number;
        if (!this.before(parent, doc)) break;
        heap[c] = parent;
        heap[p] = doc;
        c = p;
      }
      return;
    }
    const top = heap[0] as number;
    if (this.key !== null && (this.key[doc] as number) < (this.key[top] as number)) return;
    if (!this.before(doc, top)) return;
    heap[0] = doc;
    let p = 0;
    for (;;) {
      const l = 2 * p + 1;
      const r = l + 1;
      let m = p;
      if (l < heap.length && this.before(heap[m] as number, heap[l] as number)) m = l;
      if (r < heap.length && this.before(heap[m] as number, heap[r] as number)) m = r;
      if (m === p) break;
      // Swapped through locals: a destructuring swap allocated an array each time.
      heap[p] = heap[m] as number;
      heap[m] = doc;
      p = m;
    }
  }

  /** The docs held, best first. */
  sorted(): number[] {
    return this.heap.sort((a, b) => (this.before(a, b) ? -1 : this.before(b, a) ? 1 : 0));
  }
}

/**
 * `items.map(f)` as an array V8 always holds packed: `map` gives a holey one where its caller runs
 * optimized and a packed one where it does not, and code optimized for one kind of array passed to
 * another function leaves that code for the interpreter when the other comes (Node 20 keeps the code
 * and does so again on the next such call).
 */
function packedMap<T, U>(items: readonly T[], f: (item: T) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < items.length; i++) out.push(f(items[i] as T));
  return out;
}

/** Each doc's code, by doc (0: not among `docs`), in an array of `size`. A loop apart (see `packedMap`). */
function denseCodes(docs: Int32Array, codes: Uint8Array, size: number): Uint8Array {
  const dense = new Uint8Array(size);
  for (let i = 0; i < docs.length; i++) dense[docs[i] as number] = codes[i] as number;
  return dense;
}

/** A bit per doc of `docs`, in `words` 32-bit words (the loop is `orDocs`, apart: see `packedMap`). */
function docBits(docs: Int32Array, words: number): Uint32Array {
  const bits = new Uint32Array(words);
  orDocs(bits, docs);
  return bits;
}

/**
 * The first `words` of `into` made the OR of `bits` (all zero when there are none), two arrays a
 * pass: a pass per array read and wrote `into` once for each of a pasted name's words. The words
 * past `words` are left as they are (no doc is there: zero).
 */
function orAll(into: Uint32Array, bits: readonly Uint32Array[], words: number): void {
  let b = 0;
  if (bits.length % 2 === 1) into.set((bits[b++] as Uint32Array).subarray(0, words));
  else if (bits.length === 0) into.fill(0, 0, words);
  else {
    orTwo(into, bits[0] as Uint32Array, bits[1] as Uint32Array, false, words);
    b = 2;
  }
  for (; b < bits.length; b += 2) orTwo(into, bits[b] as Uint32Array, bits[b + 1] as Uint32Array, true, words);
}

/** The first `n` of `into` = `x | y`, ORed into what they hold when `keep`. A loop apart (see `packedMap`). */
function orTwo(into: Uint32Array, x: Uint32Array, y: Uint32Array, keep: boolean, n: number): void {
  if (keep) for (let i = 0; i < n; i++) into[i] = (into[i] as number) | (x[i] as number) | (y[i] as number);
  else for (let i = 0; i < n; i++) into[i] = (x[i] as number) | (y[i] as number);
}

/** Sets the bit of each of `docs` in `into`. A loop apart (see `packedMap`). */
function orDocs(into: Uint32Array, docs: Int32Array): void {
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i] as number;
    into[doc >> 5] = (into[doc >> 5] as number) | (1 << (doc & 31));
  }
}

/** The facets' indexes in `FACETS`, for the per-facet arrays. */
function facetIndexes(facets: readonly Facet[]): number[] {
  return packedMap(facets, facetAt);
}

/**
 * The first `k` of the first `n` docs of `docs`: highest `key` first (none: name order alone),
 * ties by name label. A bounded heap of doc ids: most docs are turned away by comparing their key
 * with the heap's last one.
 */
function topDocs(docs: Int32Array, n: number, k: number, key: Float64Array | null, label: Float64Array): number[] {
  if (k <= 0 || n === 0) return [];
  const top = new TopDocs(k, key, label);
  if (key === null) {
    for (let i = 0; i < n; i++) top.push(docs[i] as number);
    return top.sorted();
  }
  pushKeyed(top, docs, n, key);
  return top.sorted();
}

/**
 * `topDocs`' pass over keyed docs, a function of its own so the code V8 compiles from inside the
 * loop holds nothing after it (see `packedMap`: Node 20 kept such code and left it for the
 * interpreter at `sorted()` on each later call).
 */
function pushKeyed(top: TopDocs, docs: Int32Array, n: number, key: Float64Array): void {
  // Once k docs are held, a doc keyed below the last of them cannot enter: turned away here, without
  // a call (most docs of a large result are). The bar only rises.
  let bar = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const doc = docs[i] as number;
    if ((key[doc] as number) < bar) continue;
    top.push(doc);
    if (top.full) bar = key[top.worst] as number;
  }
}

/** `items` ordered by their `keys` (each below `bound`), stable: least significant byte first. */
function radixSort(
  items: Int32Array<ArrayBuffer>,
  keys: Int32Array<ArrayBuffer>,
  bound: number,
): Int32Array<ArrayBuffer> {
  let from = items;
  let fromKeys = keys;
  let to = new Int32Array(items.length);
  let toKeys = new Int32Array(items.length);
  const counts = new Int32Array(256);
  for (let shift = 0; shift === 0 || bound >>> shift > 0; shift += 8) {
    counts.fill(0);
    for (let i = 0; i < from.length; i++) {
      const digit = ((fromKeys[i] as number) >>> shift) & 255;
      counts[digit] = (counts[digit] as number) + 1;
    }
    let at = 0;
    for (let d = 0; d < 256; d++) {
      const count = counts[d] as number;
      counts[d] = at;
      at += count;
    }
    for (let i = 0; i < from.length; i++) {
      const digit = ((fromKeys[i] as number) >>> shift) & 255;
      const place = counts[digit] as number;
      counts[digit] = place + 1;
      to[place] = from[i] as number;
      toKeys[place] = fromKeys[i] as number;
    }
    [from, to] = [to, from];
    [fromKeys, toKeys] = [toKeys, fromKeys];
  }
  return from;
}

/** Set bits in a 32-bit word. */
function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
