import type { ComponentDefinition } from '@nestor/sdk';
import MiniSearch from 'minisearch';
import { EXACT_NAME_BONUS, foldText, scoreDocument, searchDocument, searchTerms, tokenize } from '../search-text.js';

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
  description: string;
  labels: string;
}

/** One hit before filters: the component at the pick the query asked for, and its score. */
export interface SearchHit {
  component: ComponentDefinition;
  score: number;
}

/**
 * An in-memory full-text index over each name's latest versions, one per replica. The store keeps
 * it current from the event log; this class only indexes and ranks. MiniSearch finds the candidates
 * (every term required, the last one as a prefix, the shared tokenizer); the score is computed
 * with the same weights as the memory and SQLite stores, so all backends rank alike.
 */
export class SearchIndex {
  private readonly mini = new MiniSearch<IndexedDoc>({
    fields: ['name', 'description', 'labels'],
    storeFields: [],
    tokenize: (text) => tokenize(text),
    processTerm: (term) => term,
    searchOptions: {
      combineWith: 'AND',
      tokenize: (text) => text.split(' ').filter((t) => t.length > 0),
      processTerm: (term) => term,
    },
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

  /** Every hit for `text`, best first (ties by name). Text without terms matches nothing. */
  search(text: string, includePrerelease: boolean): SearchHit[] {
    const terms = searchTerms(text);
    if (terms.length === 0) return [];
    const variant = includePrerelease ? 'highest:' : 'latest:';
    const last = terms.length - 1;
    const results = this.mini.search(terms.join(' '), {
      prefix: (_term, i) => i === last,
      filter: (r) => (r.id as string).startsWith(variant),
    });
    const exact = foldText(text.trim());
    const hits: SearchHit[] = [];
    for (const r of results) {
      const picks = this.picks.get((r.id as string).slice(variant.length));
      if (!picks) continue;
      const component = includePrerelease ? picks.highest : picks.latest;
      const score = scoreOf(component, terms);
      if (score === 0) continue;
      hits.push({ component, score: foldText(component.name) === exact ? score + EXACT_NAME_BONUS : score });
    }
    hits.sort((a, b) => b.score - a.score || (a.component.name < b.component.name ? -1 : 1));
    return hits;
  }
}

function toDoc(c: ComponentDefinition, variant: 'latest' | 'highest'): IndexedDoc {
  return {
    id: `${variant}:${c.name}`,
    name: c.name,
    description: c.description,
    labels: Object.entries(c.labels)
      .map(([k, v]) => `${k} ${v}`)
      .join(' '),
  };
}

function scoreOf(c: ComponentDefinition, terms: string[]): number {
  return scoreDocument(searchDocument(c), terms);
}
