import type { CatalogEvent, ScoredComponent } from '@nestor/sdk';
import { searchCursor } from '../cursor.js';
import type { Page, SearchQuery } from '../interfaces.js';
import { matchesFilters } from '../records.js';
import type { Head } from './items.js';
import { type HeadPicks, SearchIndex } from './search-index.js';

/** What the projection reads of the table: the log and the names' head items. */
export interface ProjectionSource {
  readCounter(): Promise<number>;
  oldestSequence(): Promise<number>;
  readEvents(after: number, limit: number): Promise<CatalogEvent[]>;
  getHead(name: string): Promise<Head | null>;
  /** Every name's head item, from the names index. */
  allHeads(): Promise<{ name: string; head: Head }[]>;
}

/**
 * The search index of one replica, kept current from the event log: `searchComponents` of the
 * DynamoDB store, which has no full-text index of its own.
 */
export class SearchProjection {
  private readonly index = new SearchIndex();
  private indexedUpTo = -1;
  private refreshing: Promise<void> | null = null;

  constructor(private readonly source: ProjectionSource) {}

  /** One page of hits from position `start`, after bringing the index up to the log's head. */
  async search(query: SearchQuery, start: number): Promise<Page<ScoredComponent>> {
    await this.refresh();
    const hits = this.index
      .search(query.text, query.includePrerelease === true)
      .filter((h) => matchesFilters(h.component, query));
    const page = hits.slice(start, start + query.limit);
    const end = start + page.length;
    return {
      items: page.map((h) => ({ ...h.component, score: h.score })),
      nextCursor: end < hits.length ? searchCursor(end) : null,
    };
  }

  /** Forces a full reload on the next search: versions changed without an event naming them. */
  invalidate(): void {
    this.indexedUpTo = -1;
  }

  /**
   * Brings the search index up to the log's head: a full load from the head items the first time
   * (or when the events it missed were compacted away), then only the names that changed since.
   */
  private refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const head = await this.source.readCounter();
    if (head === this.indexedUpTo) return;
    if (this.indexedUpTo >= 0) {
      const oldest = await this.source.oldestSequence();
      if (oldest === 0 || oldest <= this.indexedUpTo + 1) {
        const changed = new Set<string>();
        let from = this.indexedUpTo;
        for (;;) {
          const events = await this.source.readEvents(from, 1000);
          for (const e of events) if (e.type.startsWith('component.')) changed.add(e.subject.name);
          const lastEvent = events[events.length - 1];
          if (!lastEvent || events.length < 1000) {
            if (lastEvent) from = lastEvent.id;
            break;
          }
          from = lastEvent.id;
        }
        for (const name of changed) {
          const h = await this.source.getHead(name);
          if (h) this.index.upsert(picksOf(name, h));
          else this.index.remove(name);
        }
        this.indexedUpTo = Math.max(from, head);
        return;
      }
    }
    const heads = await this.source.allHeads();
    this.index.clear();
    for (const { name, head: h } of heads) this.index.upsert(picksOf(name, h));
    this.indexedUpTo = head;
  }
}

function picksOf(name: string, head: Head): HeadPicks {
  return { name, latest: head.latest, highest: head.highest };
}
