import type { ComponentDefinition } from '@nestor/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeComponent } from '../storage/testing.js';
import { FACETS, type Facet, type Filter } from './query.js';
import {
  type IndexQuery,
  type IndexResult,
  SearchIndex,
  type SearchIndexTuning,
  type SortOrder,
  type View,
} from './search-index.js';
import { foldText, tokenize, withinOneEdit } from './text.js';

/**
 * The index against a brute-force reading of the ranking rules (DESIGN.md 10.1, 10.10, decision
 * 18): every doc of the view scored word by word from its own fields, filtered, counted and sorted
 * in full. Small vocabularies make short prefixes match most of the catalog, so the paths for
 * large results (facets counted through the complement) are taken as often as the small ones.
 */

const VOCAB = ['postgres', 'postgis', 'redis', 'reddit', 'pubsub', 'kafka', 'kafak', 'queue', 'cluster', 'p', 'po'];
const GROUP_WEIGHT = [1000, 100, 10, 1];

function definition(
  name: string,
  version: string,
  words: string[],
  opts: {
    provider: string;
    category: string;
    labels: Record<string, string>;
    engines: string[];
    updated: number;
    orphaned?: boolean;
  },
): ComponentDefinition {
  const spec = makeComponent({
    name,
    version,
    description: words.join(' '),
    provider: opts.provider,
    category: opts.category,
    resource_type: `${opts.category}_thing`,
    labels: opts.labels,
    deployment_engines: opts.engines as ComponentDefinition['deployment_engines'],
    maturity: opts.updated % 3 === 0 ? 'beta' : 'stable',
  });
  const at = new Date(Date.UTC(2026, 0, 1) + (opts.updated % 7) * 86_400_000).toISOString();
  const orphaned = opts.orphaned ? { source: 'platform', at } : null;
  return { ...spec, created_at: at, updated_at: at, deprecated: null, revision: opts.updated, orphaned };
}

function groups(def: ComponentDefinition): Map<string, number> {
  const out = new Map<string, number>();
  const add = (text: string, group: number) => {
    for (const w of tokenize(text)) if ((out.get(w) ?? 9) > group) out.set(w, group);
  };
  add(def.name, 0);
  for (const t of [def.resource_type, def.category, def.provider]) add(t, 1);
  for (const [k, v] of Object.entries(def.labels)) {
    add(k, 2);
    add(v, 2);
  }
  for (const i of [...def.required_inputs, ...def.optional_inputs, ...def.outputs]) add(i.name, 2);
  add(def.description, 3);
  return out;
}

function values(def: ComponentDefinition): [Facet, string][] {
  return [
    ['provider', def.provider],
    ['category', def.category],
    ['resource_type', def.resource_type],
    ['maturity', def.maturity],
    ['support_level', def.support_level],
    ...[...new Set(def.deployment_engines)].map((e): [Facet, string] => ['engine', e]),
    ...Object.entries(def.labels).map(([k, v]): [Facet, string] => ['label', `${k}=${v}`]),
  ];
}

function quality(query: string, word: string): number {
  if (word === query) return 1;
  if (word.startsWith(query)) return 0.8;
  if (query.length >= 5 && withinOneEdit(query, word)) return 0.6;
  return 0;
}

function model(catalog: Map<string, { latest: ComponentDefinition; highest: ComponentDefinition }>, q: IndexQuery) {
  const docs = [...catalog.values()].map((p) => (q.view === 1 ? p.highest : p.latest));
  const filtered = docs.filter(
    (d) =>
      q.filters.every((f) => values(d).some(([k, v]) => k === f.facet && v === f.value)) &&
      (!q.orphaned || Boolean(d.orphaned)),
  );
  const scored: { def: ComponentDefinition; score: number }[] = [];
  for (const def of filtered) {
    if (q.words.length === 0) {
      scored.push({ def, score: 0 });
      continue;
    }
    const g = groups(def);
    let matched = 0;
    let sum = 0;
    for (const word of q.words) {
      let best = 0;
      for (const [w, group] of g) best = Math.max(best, (GROUP_WEIGHT[group] as number) * quality(word, w));
      if (best > 0) {
        matched++;
        sum += best;
      }
    }
    if (matched === 0) continue;
    let s = matched * 1_000_000 + sum;
    if (q.phrase !== '' && foldText(def.name) === q.phrase) s += 100_000;
    scored.push({ def, score: Math.round(s * 100) / 100 });
  }
  const facets: Partial<Record<Facet, { value: string; count: number }[]>> = {};
  for (const facet of q.facets) {
    const counts = new Map<string, number>();
    for (const { def } of scored) {
      for (const [k, v] of values(def)) if (k === facet) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    facets[facet] = [...counts]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
      .slice(0, q.facetLimit);
  }
  const byName = (a: { def: ComponentDefinition }, b: { def: ComponentDefinition }) =>
    a.def.name < b.def.name ? -1 : a.def.name > b.def.name ? 1 : 0;
  const sort = q.sort === 'relevance' && q.words.length === 0 ? 'name' : q.sort;
  let page: typeof scored;
  let more: boolean;
  if (sort === 'name') {
    const rest = scored.filter((s) => s.def.name > q.after).sort(byName);
    page = rest.slice(0, q.limit);
    more = rest.length > q.limit;
  } else {
    const key = (s: (typeof scored)[number]) => (sort === 'updated' ? Date.parse(s.def.updated_at) : s.score);
    const sorted = [...scored].sort((a, b) => key(b) - key(a) || byName(a, b));
    page = sorted.slice(q.offset, q.offset + q.limit);
    more = q.offset + q.limit < sorted.length;
  }
  return { page: page.map((s) => [s.def.name, s.def.version, s.score]), more, total: scored.length, facets };
}

/** An index and the catalog it holds (for `model`), and `put` writing a name's one version to both. */
function catalogIndex(tuning: Partial<SearchIndexTuning>) {
  const opts = { provider: 'gcp', category: 'database', labels: {}, engines: ['terraform'], updated: 1 };
  const index = new SearchIndex(tuning);
  const catalog = new Map<string, { latest: ComponentDefinition; highest: ComponentDefinition }>();
  const put = (name: string, words: string[]) => {
    const def = definition(name, '1.0.0', words, { ...opts, updated: catalog.size + 1 });
    index.upsert(def, def);
    catalog.set(name, { latest: def, highest: def });
  };
  return { index, catalog, put };
}

/** An unfiltered relevance query of the first 5, no facets, with `over` in place. */
function indexQuery(over: Partial<IndexQuery>): IndexQuery {
  return {
    view: 0,
    words: [],
    phrase: '',
    filters: [],
    sort: 'relevance',
    after: '',
    offset: 0,
    limit: 5,
    facets: [],
    facetLimit: 10,
    ...over,
  };
}

function shape(r: IndexResult, index: SearchIndex) {
  const facets = r.facets.lists();
  // Written without the objects, the facets read as the objects' JSON, for every result compared.
  const bytes = Buffer.alloc(r.facets.byteLength());
  expect(r.facets.writeTo(bytes, 0)).toBe(bytes.length);
  expect(bytes.toString('utf8')).toBe(JSON.stringify(facets));
  return {
    page: r.hits.map((h) => [h.name, index.definitionOf(h.doc)?.version, h.score]),
    more: r.more,
    total: r.total,
    facets,
  };
}

const spec = fc.record({
  name: fc.constantFrom('aws-rds', 'aws-redis', 'gcp-pubsub', 'k8s-kafka', 'postgres', 'po', 'queue-x', 'redis'),
  suffix: fc.integer({ min: 0, max: 30 }),
  words: fc.array(fc.constantFrom(...VOCAB), { maxLength: 4 }),
  provider: fc.constantFrom('aws', 'gcp', 'k8s'),
  category: fc.constantFrom('database', 'cache', 'queue'),
  labels: fc.dictionary(fc.constantFrom('team', 'tier'), fc.constantFrom('data', 'platform', '1', '2'), { maxKeys: 2 }),
  engines: fc.subarray(['terraform', 'pulumi', 'crossplane', 'ansible'], { minLength: 1 }),
  updated: fc.integer({ min: 1, max: 1000 }),
  orphaned: fc.boolean(),
  prerelease: fc.option(fc.array(fc.constantFrom(...VOCAB), { maxLength: 2 })),
  remove: fc.boolean(),
});

const filter = fc.oneof(
  fc.constantFrom('aws', 'gcp', 'k8s').map((value): Filter => ({ facet: 'provider', value })),
  fc.constantFrom('database', 'cache').map((value): Filter => ({ facet: 'category', value })),
  fc.constantFrom('team=data', 'tier=1').map((value): Filter => ({ facet: 'label', value })),
  fc.constantFrom('pulumi').map((value): Filter => ({ facet: 'engine', value })),
);

const query = fc.record({
  view: fc.constantFrom<View>(0, 1),
  words: fc.uniqueArray(
    fc.oneof(
      fc.constantFrom(...VOCAB),
      fc.constantFrom(...VOCAB).map((w) => w.slice(0, 2)),
      fc.constantFrom('p', 'r', 'k', 'postgre', 'reddis', 'kafka', 'aws', 'data', 'zzz', '1'),
    ),
    { maxLength: 5 },
  ),
  phrase: fc.constantFrom('', 'redis', 'postgres', 'aws-rds-3', 'redis-1', 'po-2', 'k8s-kafka-0'),
  filters: fc.array(filter, { maxLength: 2 }),
  orphaned: fc.boolean(),
  sort: fc.constantFrom<SortOrder>('relevance', 'name', 'updated'),
  after: fc.constantFrom('', 'aws-redis', 'p'),
  offset: fc.integer({ min: 0, max: 6 }),
  limit: fc.integer({ min: 1, max: 6 }),
  facets: fc.subarray([...FACETS]),
  facetLimit: fc.integer({ min: 1, max: 4 }),
});

/** The options of a GCP database component updated at `updated`. */
const plain = (updated: number) => ({
  provider: 'gcp',
  category: 'database',
  labels: {},
  engines: ['terraform'],
  updated,
});

/** An index built afresh from what `index` holds for `names`. */
function rebuilt(index: SearchIndex, names: readonly string[]): SearchIndex {
  const fresh = new SearchIndex();
  for (const name of names) {
    const picks = index.picks(name);
    if (picks) fresh.upsert(picks.latest, picks.highest);
  }
  return fresh;
}

/** The default plans, and tunings that push a small catalog through the others (see `SearchIndexTuning`). */
const TUNINGS: [string, Partial<SearchIndexTuning>][] = [
  ['default plans', {}],
  ['every search broad; word sets searched, not probed', { broad: 1e9, dense: 1e-9 }],
  ['every search broad; every word set probed through per-doc codes', { broad: 1e9, dense: 1e9 }],
  ['every search gathered doc by doc', { broad: 0 }],
  ['no memory for word sets: each dropped as soon as another is kept', { keptBytes: 1 }],
  ['broad searches walk the ranked docs to the end, no overlap scored up front', { broad: 1e9, overlap: 0, walk: 1e9 }],
  ['broad searches give up walking at once and score the overlap', { broad: 1e9, overlap: 0, walk: 0 }],
  ['filtered searches always gather the words first', { wordsFirst: 0 }],
  ['filtered searches always walk the filtered docs', { wordsFirst: 1e9 }],
  ['ranked lists always merge the names created since the build', { laterNames: 1 }],
  ['broad sets ranked as a head of two docs first, walks past it', { broad: 1e9, overlap: 0, rankedHead: 2 }],
  ['broad sets ranked as a head of one doc, walked to the end', { broad: 1e9, overlap: 0, walk: 1e9, rankedHead: 1 }],
  ['filtered docs kept for few combinations, the least recently asked let go', { wordsFirst: 1e9, filterMemoDocs: 24 }],
];

describe('SearchIndex', () => {
  it.each(TUNINGS)('answers as the ranking rules read brute force, through upserts and removals (%s)', (_, tuning) => {
    fc.assert(
      fc.property(
        fc.array(spec, { maxLength: 60 }),
        fc.array(spec, { maxLength: 20 }),
        fc.array(query, { minLength: 1, maxLength: 8 }),
        (ops, later, queries) => {
          const index = new SearchIndex(tuning);
          const catalog = new Map<string, { latest: ComponentDefinition; highest: ComponentDefinition }>();
          const apply = (batch: typeof ops) => {
            for (const op of batch) {
              const name = `${op.name}-${op.suffix}`;
              if (op.remove && catalog.has(name) && op.suffix % 4 === 0) {
                index.remove(name);
                catalog.delete(name);
                continue;
              }
              const latest = definition(name, '1.0.0', op.words, op);
              const highest = op.prerelease ? definition(name, '2.0.0-rc.1', op.prerelease, op) : latest;
              index.upsert(latest, highest);
              catalog.set(name, { latest, highest });
            }
          };
          // Each query is asked three times, before and after more changes: the later askings read
          // what the first kept (word sets, counts, ranked lists) and the third what the second
          // kept (a qualified search's filtered docs), and changes must drop all of it.
          const ask = () => {
            expect(index.size).toBe(catalog.size);
            for (const q of queries) {
              const asked: IndexQuery = {
                ...q,
                after: q.sort === 'name' ? q.after : '',
                offset: q.sort === 'name' ? 0 : q.offset,
              };
              const expected = model(catalog, asked);
              expect(shape(index.query(asked), index)).toEqual(expected);
              expect(shape(index.query(asked), index)).toEqual(expected);
              expect(shape(index.query(asked), index)).toEqual(expected);
            }
          };
          apply(ops);
          ask();
          apply(later);
          ask();
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([...TUNINGS.slice(0, 4), ...TUNINGS.slice(-3)])(
    'keeps its word sets through writes, answering as an index built afresh from the catalog (%s)',
    (_, tuning) => {
      // Words past DELETION_MAX letters, and query words one inner letter short of a doc's word:
      // the write patching finds a kept set by its words' prefixes and one-letter deletions.
      const long = 'observabilitydashboardsforplatformteams';
      const words = [...VOCAB, long, long.slice(0, -1), 'kubernetes'];
      const change = fc.record({
        name: fc.constantFrom('aws-rds', 'aws-redis', 'k8s-kafka', 'postgres', 'po'),
        suffix: fc.integer({ min: 0, max: 6 }),
        words: fc.array(fc.constantFrom(...words), { maxLength: 4 }),
        provider: fc.constantFrom('aws', 'gcp', 'k8s'),
        category: fc.constantFrom('database', 'cache', 'queue'),
        labels: fc.dictionary(fc.constantFrom('team', 'tier'), fc.constantFrom('data', 'platform', '1'), {
          maxKeys: 2,
        }),
        engines: fc.subarray(['terraform', 'pulumi', 'crossplane'], { minLength: 1 }),
        updated: fc.integer({ min: 1, max: 1000 }),
        orphaned: fc.boolean(),
        prerelease: fc.option(fc.array(fc.constantFrom(...words), { maxLength: 2 })),
        remove: fc.boolean(),
      });
      const asked = fc.record({
        view: fc.constantFrom<View>(0, 1),
        words: fc.uniqueArray(
          fc.constantFrom(
            'p',
            'po',
            'postges',
            'postgres',
            'reddis',
            'kafka',
            'kubernets',
            'aws',
            'k',
            'observ',
            long,
            long.slice(0, -1),
            `${long}s`,
            long.slice(0, 10) + long.slice(11),
          ),
          { minLength: 1, maxLength: 3 },
        ),
        sort: fc.constantFrom<SortOrder>('relevance', 'name', 'updated'),
        facets: fc.subarray([...FACETS]),
        filters: fc.array(filter, { maxLength: 1 }),
      });
      fc.assert(
        fc.property(
          // A catalog built in name order first (as from a listing at start-up), so that names
          // written later land between its names; queries asked every `every` writes, so that
          // several writes reach a kept set between two reads of it.
          fc.array(change, { maxLength: 20 }),
          fc.array(change, { minLength: 1, maxLength: 30 }),
          fc.integer({ min: 1, max: 8 }),
          fc.array(asked, { minLength: 1, maxLength: 5 }),
          (built, changes, every, queries) => {
            const index = new SearchIndex(tuning);
            const catalog = new Map<string, { latest: ComponentDefinition; highest: ComponentDefinition }>();
            const ask = (i: SearchIndex, q: (typeof queries)[number]) =>
              shape(i.query({ ...q, phrase: '', orphaned: false, after: '', offset: 0, limit: 5, facetLimit: 5 }), i);
            const check = () => {
              const fresh = new SearchIndex(tuning);
              for (const { latest, highest } of catalog.values()) fresh.upsert(latest, highest);
              for (const q of queries) expect(ask(index, q)).toEqual(ask(fresh, q));
            };
            const write = (op: (typeof changes)[number], name: string) => {
              const latest = definition(name, '1.0.0', op.words, op);
              const highest = op.prerelease ? definition(name, '2.0.0-rc.1', op.prerelease, op) : latest;
              index.upsert(latest, highest);
              catalog.set(name, { latest, highest });
            };
            const inOrder = new Map(built.map((op) => [`${op.name}-${op.suffix}-built`, op]));
            for (const name of [...inOrder.keys()].sort()) write(inOrder.get(name) as (typeof built)[number], name);
            check();
            changes.forEach((op, i) => {
              const name = `${op.name}-${op.suffix}`;
              if (op.remove && catalog.has(name)) {
                index.remove(name);
                catalog.delete(name);
              } else {
                write(op, name);
              }
              if ((i + 1) % every === 0 || i === changes.length - 1) check();
            });
          },
        ),
        { numRuns: 120 },
      );
    },
  );

  it('moves a name between views in kept sets when its prerelease is published and withdrawn', () => {
    const opts = { provider: 'gcp', category: 'database', labels: {}, engines: ['terraform'], updated: 1 };
    const a = definition('comp-a', '1.0.0', ['redis', 'cache'], opts);
    const b = definition('comp-b', '1.0.0', ['redis'], opts);
    const rc = definition('comp-a', '2.0.0-rc.1', ['kafka'], { ...opts, updated: 2 });
    const q = indexQuery({ view: 1, words: ['redis', 'cache'], facets: ['maturity'], facetLimit: 5 });
    // Every search broad: two words go through the view's bits.
    const index = new SearchIndex({ broad: 1e9 });
    index.upsert(a, a);
    index.upsert(b, b);
    const names = () => index.query(q).hits.map((h) => h.name);
    expect(names()).toEqual(['comp-a', 'comp-b']);
    index.upsert(a, rc);
    expect(names()).toEqual(['comp-b']);
    expect(index.query({ ...q, view: 0 }).hits.map((h) => h.name)).toEqual(['comp-a', 'comp-b']);
    index.upsert(a, a);
    expect(names()).toEqual(['comp-a', 'comp-b']);
    expect(index.query(q).total).toBe(2);
  });

  it('makes a ranked head again after a write rather than patching it, so a walk past it skips no doc', () => {
    const opts = { provider: 'gcp', category: 'database', labels: {}, engines: ['terraform'], updated: 1 };
    // Ten names holding the word in their name, then ten holding it in their description only,
    // indexed in name order as a build does: a head of two docs is made for the word's set.
    const tuning = { broad: 1e9, overlap: 0, rankedHead: 2 };
    const defs = [
      ...Array.from({ length: 10 }, (_, i) => definition(`a-pgx-${i}`, '1.0.0', ['other'], opts)),
      ...Array.from({ length: 10 }, (_, i) => definition(`b-${i}`, '1.0.0', ['pgx'], opts)),
    ];
    const index = new SearchIndex(tuning);
    for (const def of defs) index.upsert(def, def);
    const q = (limit: number) => indexQuery({ words: ['pgx'], limit });
    expect(index.query(q(1)).hits.map((h) => h.name)).toEqual(['a-pgx-0']);
    // A name after every other (slots stay in name order) matching the word at a lower code than the
    // head's: placed into the head, it would sit before the docs the head does not hold.
    const late = definition('c-late', '1.0.0', ['pgx'], opts);
    index.upsert(late, late);
    const fresh = new SearchIndex(tuning);
    for (const def of [...defs, late]) fresh.upsert(def, def);
    expect(shape(index.query(q(12)), index)).toEqual(shape(fresh.query(q(12)), fresh));
    expect(index.query(q(12)).hits.map((h) => h.name)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `a-pgx-${i}`),
      'b-0',
      'b-1',
    ]);
  });

  it('ranks names created after the build by name among the built ones, in kept and in new ranked lists', () => {
    const index = new SearchIndex();
    const put = (name: string, words: string[], labels: Record<string, string> = {}) => {
      const def = definition(name, '1.0.0', words, { ...plain(1), labels });
      index.upsert(def, def);
    };
    for (let i = 1; i <= 12; i++) put(`b-${String(i).padStart(2, '0')}`, ['redis']);
    const page = (word: string, limit = 3) =>
      index
        .query({
          view: 0,
          words: [word],
          phrase: '',
          filters: [],
          sort: 'relevance',
          after: '',
          offset: 0,
          limit,
          facets: [],
          facetLimit: 5,
        })
        .hits.map((h) => h.name);
    expect(page('redis')).toEqual(['b-01', 'b-02', 'b-03']);
    // A name sorting before every built one: placed in the kept list, and merged into a new one.
    put('a-1', ['redis']);
    expect(page('redis')).toEqual(['a-1', 'b-01', 'b-02']);
    expect(page('redi')).toEqual(['a-1', 'b-01', 'b-02']);
    // Several writes before the next read: a better match (a label) moves two docs up, one leaves.
    put('b-07', ['cache'], { tier: 'redis' });
    put('b-03', ['cache'], { tier: 'redis' });
    put('b-01', ['kafka']);
    put('b-07', ['redis'], { tier: 'redis' });
    expect(page('redis', 4)).toEqual(['b-03', 'b-07', 'a-1', 'b-02']);
    // Names created since the build past a quarter of a set: every name's position, radix sorted.
    for (let i = 2; i <= 9; i++) put(`a-${i}`, ['redis']);
    expect(page('red', 4)).toEqual(['b-03', 'b-07', 'a-1', 'a-2']);
    expect(page('redis', 4)).toEqual(['b-03', 'b-07', 'a-1', 'a-2']);
  });

  it('keeps the docs a word set holds by update time a head of the set through writes (more than it holds)', () => {
    const names = Array.from({ length: 150 }, (_, i) => `comp-${String(i).padStart(3, '0')}`);
    const index = new SearchIndex();
    for (const [i, name] of names.entries()) {
      const def = definition(name, '1.0.0', ['redis'], plain(i));
      index.upsert(def, def);
    }
    const q = (offset: number): IndexQuery => ({
      view: 0,
      words: ['redis'],
      phrase: '',
      filters: [],
      sort: 'updated',
      after: '',
      offset,
      limit: 3,
      facets: [],
      facetLimit: 5,
    });
    for (let u = 0; u < 40; u++) {
      // Held first (100 docs by update time), then changes past and within the head.
      index.query(q(0));
      const def = definition(names[(u * 37) % names.length] as string, '1.0.0', ['redis'], plain(u * 13 + 1000));
      index.upsert(def, def);
      const fresh = rebuilt(index, names);
      for (const offset of [0, 50, 97, 98, 99])
        expect(shape(index.query(q(offset)), index)).toEqual(shape(fresh.query(q(offset)), fresh));
    }
  });

  it('drops a kept set that writes keep patching while no query asks for it, and keeps one that is asked for', () => {
    const q: IndexQuery = {
      view: 0,
      words: ['redis'],
      phrase: '',
      filters: [],
      sort: 'relevance',
      after: '',
      offset: 0,
      limit: 3,
      facets: ['provider'],
      facetLimit: 5,
    };
    const index = new SearchIndex();
    const publish = (i: number) => {
      const def = definition(`comp-${i % 40}`, '1.0.0', ['redis'], plain(i));
      index.upsert(def, def);
    };
    publish(0);
    index.query(q);
    expect(index.keptWordSets.sets).toBe(1);
    // Asked between writes: patched, kept.
    for (let i = 1; i <= 250; i++) {
      publish(i);
      index.query(q);
    }
    expect(index.keptWordSets.sets).toBe(1);
    // A sync's writes with no query between them: patched up to the bound (counted from the last
    // query), then dropped.
    for (let i = 251; i <= 450; i++) publish(i);
    expect(index.keptWordSets.sets).toBe(1);
    for (let i = 451; i <= 550; i++) publish(i);
    expect(index.keptWordSets.sets).toBe(0);
    const fresh = rebuilt(
      index,
      Array.from({ length: 40 }, (_, i) => `comp-${i}`),
    );
    expect(shape(index.query(q), index)).toEqual(shape(fresh.query(q), fresh));
  });

  it('finds the docs a broad word ranks low or not at all: lifted by the other word, or named as the free text', () => {
    // `p` is broad; the docs it matches best (in their names) hold `redis` only in their
    // descriptions, while `redis-*` holds `p` only in its description: it must still lead the page.
    const opts = { provider: 'gcp', category: 'database', labels: {}, engines: ['terraform'], updated: 1 };
    const catalog = new Map<string, { latest: ComponentDefinition; highest: ComponentDefinition }>();
    for (let i = 0; i < 12; i++) {
      const def = definition(`postgres-${String(i).padStart(2, '0')}`, '1.0.0', ['redis'], opts);
      catalog.set(def.name, { latest: def, highest: def });
    }
    for (let i = 0; i < 40; i++) {
      const def = definition(`queue-${String(i).padStart(2, '0')}`, '1.0.0', ['pubsub'], opts);
      catalog.set(def.name, { latest: def, highest: def });
    }
    const lifted = definition('redis-zz', '1.0.0', ['pubsub'], opts);
    catalog.set(lifted.name, { latest: lifted, highest: lifted });
    for (const [, tuning] of TUNINGS) {
      const index = new SearchIndex(tuning);
      for (const { latest, highest } of catalog.values()) index.upsert(latest, highest);
      const asked: IndexQuery = {
        view: 0,
        words: ['p', 'redis'],
        phrase: 'p redis',
        filters: [],
        sort: 'relevance',
        after: '',
        offset: 0,
        limit: 3,
        facets: [],
        facetLimit: 10,
      };
      const result = shape(index.query(asked), index);
      expect(result).toEqual(model(catalog, asked));
      expect(result.page[0]?.[0]).toBe('redis-zz');
      // Named exactly as the free text, outside the broad word, behind many docs of the other word.
      const named: IndexQuery = { ...asked, words: ['queue', 'redis'], phrase: 'postgres-05', limit: 2 };
      const answer = shape(index.query(named), index);
      expect(answer).toEqual(model(catalog, named));
      expect(answer.page[0]?.[0]).toBe('postgres-05');
    }
  });

  it.each(TUNINGS)(
    'shares one set among query words reaching the same indexed words, through new words and removals (%s)',
    (_, tuning) => {
      const { index, catalog, put } = catalogIndex(tuning);
      put('pg-one', ['postgresql', 'cluster']);
      put('pg-two', ['postgres']);
      put('redis-three', ['cache']);
      // `postg` and `postgr` reach postgres and postgresql as prefixes, `postgers` and `postgrse`
      // reach postgres with one typo: two sets, each asked through several words, some in one query.
      const asked = [['postg'], ['postgr'], ['postg', 'postgr'], ['postgers'], ['postgrse', 'postgers', 'postgres']];
      const check = () => {
        for (const words of asked) {
          for (const sort of ['relevance', 'name', 'updated'] as const) {
            const q = indexQuery({ words, phrase: words.join(' '), sort, limit: 10, facets: ['provider', 'category'] });
            expect({ words, sort, ...shape(index.query(q), index) }).toEqual({ words, sort, ...model(catalog, q) });
          }
        }
      };
      check();
      // postg and postgr; postgers and postgrse; postgres (exact, and postgresql as a prefix).
      if (tuning.keptBytes === undefined) expect(index.keptWordSets.sets).toBe(3);
      // A new indexed word `postg` reaches and `postgr` does not: `postg` has a set of its own now,
      // and the set it shared keeps answering `postgr`.
      put('gis-four', ['postgis']);
      put('pg-five', ['postgres', 'cache']);
      check();
      index.remove('pg-two');
      catalog.delete('pg-two');
      put('pg-one', ['cluster']);
      check();
    },
  );

  it.each(TUNINGS)(
    'patches a kept set with a new indexed word its query word reaches as a prefix, rather than making it again (%s)',
    (_, tuning) => {
      const { index, catalog, put } = catalogIndex(tuning);
      for (let i = 0; i < 40; i++) put(`svc-${i}`, [i % 2 === 0 ? 'postgres' : 'pubsub', 'queue']);
      const check = (words: string[]) => {
        for (const sort of ['relevance', 'name', 'updated'] as const) {
          const q = indexQuery({ words, phrase: words.join(' '), sort, limit: 10, facets: ['category'] });
          expect({ words, sort, ...shape(index.query(q), index) }).toEqual({ words, sort, ...model(catalog, q) });
        }
      };
      check(['p']);
      check(['pu']);
      const made = index.keptWordSets.sets;
      // New indexed words under both prefixes, and one `p` reaches exactly.
      put('svc-new', ['pulsar', 'queue']);
      put('svc-p', ['p']);
      check(['p']);
      check(['pu']);
      if (tuning.keptBytes === undefined) expect(index.keptWordSets.sets).toBe(made);
      check(['pul']);
    },
  );

  it('searches the first 16 words of a query, as the parser keeps them', () => {
    const opts = { provider: 'gcp', category: 'database', labels: {}, engines: ['terraform'], updated: 1 };
    const index = new SearchIndex();
    const filler = Array.from({ length: 16 }, (_, i) => `w${String.fromCharCode(97 + i)}zz`);
    for (const [name, words] of [
      ['first-one', [filler[0] as string]],
      ['last-one', ['seventeenth']],
    ] as const) {
      const def = definition(name, '1.0.0', [...words], opts);
      index.upsert(def, def);
    }
    const r = index.query(indexQuery({ words: [...filler, 'seventeenth'], limit: 10 }));
    expect(r.hits.map((h) => h.name)).toEqual(['first-one']);
    expect(index.query(indexQuery({ words: ['seventeenth'] })).total).toBe(1);
  });

  it('keeps word sets within its memory budget, one set per expansion', () => {
    const opts = { provider: 'gcp', category: 'database', labels: {}, engines: ['terraform'], updated: 1 };
    const budget = 64 * 1024;
    const index = new SearchIndex({ keptBytes: budget });
    // Four letters (no typos), none a prefix of another: each reaches itself alone.
    const token = (i: number) =>
      `q${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}z`;
    for (let i = 0; i < 300; i++) {
      const def = definition(`redis-${i}`, '1.0.0', ['cluster', token(i)], opts);
      index.upsert(def, def);
    }
    const ask = (word: string) => index.query(indexQuery({ words: [word], phrase: word }));
    // A caller sending distinct words that match nothing, as a scanner or a fuzzer would: they all
    // reach no indexed word, and share the one (empty) set.
    for (let i = 0; i < 5_000; i++) expect(ask(`zq${i.toString(36)}xyz`).total).toBe(0);
    expect(index.keptWordSets.sets).toBe(1);
    // Which set each word reaches is remembered for at most 65 536 words...
    for (let i = 0; i < 70_000; i++) ask(`zz${i.toString(36)}`);
    expect(index.keptWordSets.words).toBeLessThanOrEqual(65_536);
    expect(index.keptWordSets.words).toBeGreaterThan(1_000);
    expect(index.keptWordSets.sets).toBe(1);
    // ...and `wordChars` characters of them.
    const short = new SearchIndex({ keptBytes: budget, wordChars: 5_000 });
    for (let i = 0; i < 100; i++) {
      short.query(indexQuery({ words: [`${i.toString(36)}${'y'.repeat(200)}`] }));
      expect(short.keptWordSets.wordChars).toBeLessThanOrEqual(5_000);
    }
    expect(short.keptWordSets.words).toBeLessThan(26);
    expect(short.keptWordSets.words).toBeGreaterThan(0);
    // Words typed towards one indexed word reach it alike (a prefix), and its typos alike (one edit):
    // two sets more.
    for (const word of ['clus', 'clust', 'cluste', 'clustr', 'clsuter']) expect(ask(word).total).toBe(300);
    expect(index.keptWordSets.sets).toBe(3);
    // Distinct words each reaching another indexed word: kept within the budget, the least recently
    // used dropped.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 300; i++) expect(ask(token(i)).total).toBe(1);
    }
    const kept = index.keptWordSets;
    expect(kept.bytes).toBeLessThanOrEqual(budget);
    expect(kept.sets).toBeGreaterThan(10);
    expect(kept.sets).toBeLessThan(150);
    // A word asked again after its set was dropped is answered as before.
    expect(ask('redis').total).toBe(300);
    expect(ask('redis').total).toBe(300);
  });

  it('ranks three or more words from the docs matching every word when they fill the page, and from all otherwise', () => {
    const opts = { provider: 'gcp', category: 'database', labels: {}, engines: ['terraform'], updated: 1 };
    const catalog = new Map<string, { latest: ComponentDefinition; highest: ComponentDefinition }>();
    const add = (def: ComponentDefinition) => catalog.set(def.name, { latest: def, highest: def });
    // Every word: `p` (broad, in the names), `redis` and `cluster` in the descriptions.
    for (let i = 0; i < 12; i++)
      add(definition(`postgres-${String(i).padStart(2, '0')}`, '1.0.0', ['redis', 'cluster'], opts));
    // Two of the three words, one of them named exactly as the free text and named first.
    for (let i = 0; i < 30; i++) add(definition(`pubsub-${String(i).padStart(2, '0')}`, '1.0.0', ['redis'], opts));
    add(definition('redis-pool', '1.0.0', ['queue'], opts));
    for (let i = 0; i < 20; i++) add(definition(`queue-${String(i).padStart(2, '0')}`, '1.0.0', ['cluster'], opts));
    for (const [, tuning] of TUNINGS) {
      const index = new SearchIndex(tuning);
      for (const { latest, highest } of catalog.values()) index.upsert(latest, highest);
      for (const [limit, phrase] of [5, 12, 13, 14, 40].flatMap((n) => [
        [n, 'redis-pool'] as const,
        [n, ''] as const,
      ])) {
        const asked: IndexQuery = {
          view: 0,
          words: ['p', 'redis', 'cluster'],
          phrase,
          filters: [],
          sort: 'relevance',
          after: '',
          offset: 0,
          limit,
          facets: ['provider'],
          facetLimit: 10,
        };
        const result = shape(index.query(asked), index);
        expect(result).toEqual(model(catalog, asked));
        expect(result.page[0]?.[0]).toBe('postgres-00');
        if (limit > 12 && phrase !== '') expect(result.page[12]?.[0]).toBe('redis-pool');
      }
    }
  });
});
