import {
  type CatalogEvent,
  type ComponentDefinition,
  compareVersions,
  isPrerelease,
  type ScoredComponent,
} from '@nestor/sdk';
import type { LogConsumer } from '../events/log-follower.js';
import { extended } from '../objects.js';
import type { Logger } from '../observability/logging/logger.js';
import { decodeListCursor, decodeSearchCursor, listCursor, searchCursor } from '../storage/cursor.js';
import type { ComponentJsonReader, ComponentReader, Page } from '../storage/interfaces.js';
import { eligibleForLatest, takesLatest } from '../storage/latest-rule.js';
import { ANSWER_CHUNK_BYTES } from './answer-arena.js';
import { type FacetCount, FacetCounts } from './facet-counts.js';
import { scoreLength, writeScore } from './json-bytes.js';
import { PrefaultedChunks } from './prefaulted-chunks.js';
import type { Facet, Filter } from './query.js';
import { type IndexHit, SearchIndex, type SortOrder } from './search-index.js';

/** What the projection reads from the store: the latest versions, to build itself and to re-read a name. */
export type SearchSource = Pick<ComponentReader, 'getLatestComponent'> &
  Pick<ComponentJsonReader, 'listComponentsJson' | 'readAheadListed'>;

/** Something the projection waits on to reflect the log up to a revision (its log follower). */
export interface ProjectionWaiter {
  catchUp(head: number): Promise<void>;
  position(): number;
}

/** One list or search over the projection. */
export interface CatalogQuery {
  /** Folded words to search for; empty: a filtered list. */
  words: readonly string[];
  /** Free text a name must equal to rank first ('' for none). */
  phrase: string;
  /** True for `/search`: items carry a score, and text without words or qualifiers matches nothing. */
  ranked: boolean;
  filters: readonly Filter[];
  /** Only components whose listed version is orphaned (`orphaned=true`). */
  orphaned?: boolean | undefined;
  includePrerelease: boolean;
  /** Default: relevance for a search with words, name otherwise. */
  sort?: SortOrder | undefined;
  limit: number;
  cursor?: string | null | undefined;
  facets: readonly Facet[];
  /** Values per facet, most frequent first (default 100). */
  facetLimit?: number | undefined;
  /** The catalog revision the answer must reflect (read-your-writes); null: whatever is applied. */
  revision?: number | null | undefined;
}

export interface CatalogQueryResult<T> {
  /** Read back from the indexed bytes for this answer: the caller owns them. */
  items: T[];
  nextCursor: string | null;
  total: number;
  facets: Partial<Record<Facet, FacetCount[]>> | null;
}

const PAGE = 500;
const ITEMS_OPEN = Buffer.from('{"items":[');
const COMMA = 0x2c; // ','
const CLOSE_BRACE = 0x7d; // '}'
const DEFAULT_FACET_LIMIT = 100;
const DEFAULT_WAIT_MS = 2_000;

/**
 * The one search projection every store shares (docs/decisions.md): a `SearchIndex` fed by the
 * durable log through a `LogFollower` (component events carry the whole stored version), built from
 * the store's latest versions on reset (start-up, or a gap in the log). List and search are answered
 * from it, so every store ranks, filters and counts alike, without scanning definitions.
 */
export class SearchProjection implements LogConsumer {
  private readonly source: SearchSource;
  private readonly logger: Logger;
  private readonly waitMs: number;
  private index = new SearchIndex();
  private waiter: ProjectionWaiter | null = null;

  constructor(opts: { source: SearchSource; logger: Logger; waitMs?: number }) {
    this.source = opts.source;
    this.logger = opts.logger;
    this.waitMs = opts.waitMs ?? DEFAULT_WAIT_MS;
  }

  /** The follower feeding this projection; queries wait for it to reach their revision. */
  attach(waiter: ProjectionWaiter): void {
    this.waiter = waiter;
  }

  /** Number of components indexed. */
  get size(): number {
    return this.index.size;
  }

  async onEvents(events: readonly CatalogEvent[]): Promise<void> {
    for (const event of events) {
      if (!event.type.startsWith('component.')) continue;
      const component = event.data['component'] as ComponentDefinition | undefined;
      const known =
        event.type === 'component.created' ||
        event.type === 'component.updated' ||
        event.type === 'component.deprecated';
      if (known && component && component.name === event.subject.name && eligibleForLatest(component)) {
        if (this.apply(component, event.type === 'component.created')) continue;
      }
      // A change this projection cannot derive from the event alone: read the name's picks again.
      await this.reload(event.subject.name);
    }
  }

  async onReset(): Promise<void> {
    const started = Date.now();
    // The answer bytes' pages made on the other core while this one walks (`PrefaultedChunks`).
    const chunks = new PrefaultedChunks({ chunkBytes: ANSWER_CHUNK_BYTES });
    const index = new SearchIndex({}, chunks);
    // One listing with prereleases: where the highest version is a release, it is the latest too
    // (the highest release is the default pick), and the name is indexed as the listing reads it,
    // in name order (each new name lands at the end of the index's name order). Held until the
    // walk ended, the whole catalog's definitions made start-up at 100 000 components spend a
    // fifth of its time collecting a heap they filled. Names led by a prerelease wait for their
    // latest, read once the walk is done.
    const ledByPrerelease = new Map<string, ComponentDefinition>();
    let walked = 0;
    const readAhead = this.source.readAheadListed?.();
    try {
      await this.walk(true, (def, json) => {
        walked++;
        if (isPrerelease(def.version)) ledByPrerelease.set(def.name, def);
        else index.upsert(def, def, json);
      });
    } finally {
      readAhead?.stop();
      chunks.stop();
    }
    const latest = new Map<string, ComponentDefinition>();
    if (ledByPrerelease.size * PAGE > walked) {
      await this.walk(false, (def, json) => {
        // A name the first walk missed (created between the two) is indexed at its release.
        if (ledByPrerelease.has(def.name)) latest.set(def.name, def);
        else if (!index.has(def.name)) index.upsert(def, def, json);
      });
    } else {
      for (const name of ledByPrerelease.keys()) {
        const def = await this.source.getLatestComponent(name);
        if (def) latest.set(name, def);
      }
    }
    for (const [name, highest] of ledByPrerelease) index.upsert(latest.get(name) ?? highest, highest);
    this.index = index;
    this.logger.info({ components: index.size, ms: Date.now() - started }, 'search projection built');
  }

  /** A list (name order, filters) or a search (ranked words, filters), with total and facets. */
  async query(q: CatalogQuery): Promise<CatalogQueryResult<ComponentDefinition | ScoredComponent>> {
    await this.settle(q.revision ?? null);
    const r = this.run(q);
    const { index } = this;
    const items = r.hits.map((h) => {
      const component = index.definitionOf(h.doc) as ComponentDefinition;
      return q.ranked ? extended(component, { score: h.score }) : component;
    });
    return { items, nextCursor: r.nextCursor, total: r.total, facets: r.facets?.lists() ?? null };
  }

  /**
   * `query` as the UTF-8 JSON of its HTTP answer (`{ items, next_cursor, total, facets? }`, the
   * members in that order, as the handlers answered before): the index holds each definition as
   * these bytes, so a page is one copy of its items' bytes rather than a `JSON.stringify` of its
   * definitions and an encoding of the whole on every request.
   * `alloc` gives the memory the page is written into (every byte of it is written).
   */
  page(q: CatalogQuery, alloc: (length: number) => Buffer = Buffer.allocUnsafe): Buffer | Promise<Buffer> {
    // Synchronous when there is nothing to wait for, as on nearly every request: a list or search
    // answer then costs no promises between the handler and the index.
    const waiting = this.settle(q.revision ?? null);
    return waiting === null ? this.bytesOfPage(q, alloc) : waiting.then(() => this.bytesOfPage(q, alloc));
  }

  private bytesOfPage(q: CatalogQuery, alloc: (length: number) => Buffer): Buffer {
    const { index } = this;
    const r = this.run(q);
    const { hits } = r;
    // The facets follow `tail` as bytes of their own (`FacetCounts.writeTo`), then the closing brace.
    const tail = `],"next_cursor":${JSON.stringify(r.nextCursor)},"total":${r.total}${r.facets ? ',"facets":' : ''}`;
    // Sized first and written once: one allocation and a copy per item, rather than a buffer per
    // score and a concatenation of the parts.
    let length =
      ITEMS_OPEN.length + Math.max(0, hits.length - 1) + Buffer.byteLength(tail) + (r.facets?.byteLength() ?? 0) + 1;
    for (let i = 0; i < hits.length; i++) {
      const hit = hits[i] as IndexHit;
      length += index.answerLength(hit.doc);
      // The item's closing brace is overwritten by the score member, which brings its own.
      if (q.ranked) length += scoreLength(hit.score) - 1;
    }
    const out = alloc(length);
    out.set(ITEMS_OPEN, 0);
    let at = ITEMS_OPEN.length;
    for (let i = 0; i < hits.length; i++) {
      const hit = hits[i] as IndexHit;
      if (i > 0) out[at++] = COMMA;
      at += index.copyAnswer(hit.doc, out, at);
      if (q.ranked) at += writeScore(out, at - 1, hit.score) - 1;
    }
    at += out.write(tail, at, 'utf8');
    if (r.facets) at += r.facets.writeTo(out, at);
    out[at] = CLOSE_BRACE;
    return out;
  }

  /** `q` answered from the index as it is (callers settle first). */
  private run(q: CatalogQuery): {
    hits: IndexHit[];
    nextCursor: string | null;
    total: number;
    facets: FacetCounts | null;
  } {
    // A query without words has no relevance: it is a filtered list in name order.
    const asked: SortOrder = q.sort ?? (q.words.length > 0 ? 'relevance' : 'name');
    const sort: SortOrder = asked === 'relevance' && q.words.length === 0 ? 'name' : asked;
    const byName = sort === 'name';
    const after = byName ? decodeListCursor(q.cursor) : '';
    const offset = byName ? 0 : decodeSearchCursor(q.cursor);
    if (q.ranked && q.words.length === 0 && q.filters.length === 0 && !q.orphaned) {
      return { hits: [], nextCursor: null, total: 0, facets: q.facets.length > 0 ? FacetCounts.none(q.facets) : null };
    }
    const result = this.index.query({
      view: q.includePrerelease ? 1 : 0,
      words: q.words,
      phrase: q.phrase,
      filters: q.filters,
      orphaned: q.orphaned,
      sort,
      after,
      offset,
      limit: q.limit,
      facets: q.facets,
      facetLimit: q.facetLimit ?? DEFAULT_FACET_LIMIT,
    });
    const last = result.hits.at(-1);
    let nextCursor: string | null = null;
    if (result.more && last) nextCursor = byName ? listCursor(last.name) : searchCursor(offset + q.limit);
    return { hits: result.hits, nextCursor, total: result.total, facets: q.facets.length > 0 ? result.facets : null };
  }

  /**
   * Waits, bounded, until the projection reflects `revision` (the writes this replica has shown);
   * null when it does already.
   */
  private settle(revision: number | null): Promise<void> | null {
    const waiter = this.waiter;
    if (!waiter) return null;
    const target = revision ?? 0;
    if (waiter.position() >= target && waiter.position() >= 0) return null;
    return this.catchUp(waiter, target);
  }

  private async catchUp(waiter: ProjectionWaiter, target: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.waitMs);
    });
    try {
      const outcome = await Promise.race([waiter.catchUp(target).then(() => 'ok' as const), timeout]);
      if (outcome === 'timeout') {
        this.logger.warn(
          { revision: target, at: waiter.position() },
          'search projection is behind; answering from it as it is',
        );
      }
    } catch (err) {
      this.logger.warn({ err, revision: target }, 'search projection could not catch up; answering from it as it is');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Applies a version known from its event; false when the picks must be read from the store. */
  private apply(def: ComponentDefinition, created: boolean): boolean {
    const picks = this.index.picks(def.name);
    if (!picks) {
      if (!created) return false;
      this.index.upsert(def, def);
      return true;
    }
    const { latest, highest } = picks;
    // The stores' one latest rule (storage/latest-rule.ts), applied to the pick each notion holds.
    const take = (holder: ComponentDefinition, includePrerelease: boolean) =>
      def.version === holder.version ||
      takesLatest(
        def,
        { prerelease: isPrerelease(holder.version) },
        compareVersions(def.version, holder.version) > 0,
        includePrerelease,
      );
    const nextLatest = take(latest, false) ? def : latest;
    const nextHighest = take(highest, true) ? def : highest;
    if (nextLatest !== latest || nextHighest !== highest) this.index.upsert(nextLatest, nextHighest);
    return true;
  }

  private async reload(name: string): Promise<void> {
    const latest = await this.source.getLatestComponent(name);
    const highest = await this.source.getLatestComponent(name, { includePrerelease: true });
    if (!latest || !highest) this.index.remove(name);
    else this.index.upsert(latest, highest);
  }

  /**
   * Every listed name's pick, page by page, in name order, with its stored JSON text: the index
   * keeps that text as the pick's answer bytes, rather than serialising the parsed object again
   * (a tenth of the build at 100 000 components).
   *
   * The next page is asked for before this one is indexed: a store across the network (PostgreSQL)
   * reads and sends it meanwhile, where the walk otherwise waited a fifth of a start-up at 100 000
   * components for each page in turn.
   */
  private async walk(
    includePrerelease: boolean,
    each: (def: ComponentDefinition, json: string) => void,
  ): Promise<void> {
    let next: Promise<Page<string>> | null = this.source.listComponentsJson({
      limit: PAGE,
      cursor: null,
      includePrerelease,
    });
    try {
      while (next !== null) {
        const page: Page<string> = await next;
        const cursor = page.nextCursor;
        next = cursor ? this.source.listComponentsJson({ limit: PAGE, cursor, includePrerelease }) : null;
        for (const json of page.items) each(JSON.parse(json) as ComponentDefinition, json);
      }
    } finally {
      // A walk that fails while a page is on its way ends with that failure, not with the page's.
      next?.catch(() => {});
    }
  }
}
