import type { ComponentDefinition } from '@nestor/sdk';
import MiniSearch from 'minisearch';

/** The two picks of one name: its latest stable (or only-prerelease) version and its highest version. */
export interface HeadPicks {
  name: string;
  /** What `getLatestComponent(name)` returns. */
  latest: ComponentDefinition;
  /** What `getLatestComponent(name, { includePrerelease: true })` returns. */
  highest: ComponentDefinition;
}

interface IndexedDoc {
  id: string;
  name: string;
  nameWords: string;
  description: string;
  labels: string;
  variant: 'latest' | 'highest';
}

/** One hit before filters: the component at the pick the query asked for, and its score. */
export interface SearchHit {
  component: ComponentDefinition;
  score: number;
}

/** A name match always outranks a description-only match, whatever the text statistics say. */
const NAME_MATCH_BONUS = 1000;

/**
 * An in-memory full-text index over each name's latest versions, one per replica. The store keeps
 * it current from the event log; this class only indexes and ranks. Ranking contract (shared with
 * the SQLite store): every term must match (prefixes count); a hit on the name beats a hit only in
 * the description or labels; ties go to the name in ascending order.
 */
export class SearchIndex {
  private readonly mini = new MiniSearch<IndexedDoc>({
    fields: ['name', 'nameWords', 'description', 'labels'],
    storeFields: [],
    searchOptions: { prefix: true, combineWith: 'AND', boost: { name: 3, nameWords: 3 } },
  });
  private readonly picks = new Map<string, HeadPicks>();

  get size(): number {
    return this.picks.size;
  }

  clear(): void {
    this.mini.removeAll();
    this.picks.clear();
  }

  /** Adds or replaces a name's picks. */
  upsert(picks: HeadPicks): void {
    this.remove(picks.name);
    this.picks.set(picks.name, picks);
    this.mini.addAll([toDoc(picks.latest, 'latest'), toDoc(picks.highest, 'highest')]);
  }

  remove(name: string): void {
    if (!this.picks.has(name)) return;
    this.picks.delete(name);
    this.mini.discard(`latest:${name}`);
    this.mini.discard(`highest:${name}`);
  }

  /** Every hit for `text`, best first. Empty text matches nothing. */
  search(text: string, includePrerelease: boolean): SearchHit[] {
    if (text.trim() === '') return [];
    const variant = includePrerelease ? 'highest' : 'latest';
    const results = this.mini.search(text, { filter: (r) => (r.id as string).startsWith(`${variant}:`) });
    const hits: SearchHit[] = [];
    for (const r of results) {
      const name = (r.id as string).slice(variant.length + 1);
      const picks = this.picks.get(name);
      if (!picks) continue;
      const onName = Object.values(r.match).some((fields) => fields.includes('name') || fields.includes('nameWords'));
      hits.push({
        component: includePrerelease ? picks.highest : picks.latest,
        score: r.score + (onName ? NAME_MATCH_BONUS : 0),
      });
    }
    hits.sort((a, b) => b.score - a.score || (a.component.name < b.component.name ? -1 : 1));
    return hits;
  }
}

function toDoc(c: ComponentDefinition, variant: 'latest' | 'highest'): IndexedDoc {
  return {
    id: `${variant}:${c.name}`,
    name: c.name,
    nameWords: c.name.replace(/-/g, ' '),
    description: c.description,
    labels: Object.entries(c.labels)
      .map(([k, v]) => `${k} ${v}`)
      .join(' '),
    variant,
  };
}
