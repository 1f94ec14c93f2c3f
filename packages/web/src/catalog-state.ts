import type { ComponentDefinition, FacetCount, FacetName, ListOptions, SortOrder } from '@nestor/sdk/browser';
import { FACET_NAMES } from '@nestor/sdk/browser';

/** What the catalog page shows, kept in the URL so that a search and its facets are a shareable link. */
export interface CatalogQuery {
  q: string;
  sort: SortOrder | null;
  /** Selected values per facet; `label` values are `key=value`. */
  filters: Partial<Record<FacetName, string[]>>;
}

export function parseQuery(search: string): CatalogQuery {
  const params = new URLSearchParams(search);
  const filters: CatalogQuery['filters'] = {};
  for (const facet of FACET_NAMES) {
    const values = params.getAll(facet).filter((v) => v !== '');
    if (values.length > 0) filters[facet] = facet === 'label' ? values : values.slice(0, 1);
  }
  const sort = params.get('sort');
  return {
    q: params.get('q') ?? '',
    sort: sort === 'relevance' || sort === 'name' || sort === 'updated' ? sort : null,
    filters,
  };
}

export function queryString(query: CatalogQuery): string {
  const params = new URLSearchParams();
  if (query.q !== '') params.set('q', query.q);
  for (const facet of FACET_NAMES) for (const v of query.filters[facet] ?? []) params.append(facet, v);
  if (query.sort) params.set('sort', query.sort);
  const s = params.toString();
  return s === '' ? '/' : `/?${s}`;
}

/** The list/search options of a query: one value per facet, labels all required (AND). */
export function listOptions(query: CatalogQuery, limit: number): ListOptions {
  const opts: ListOptions = { limit, facets: FACET_NAMES };
  for (const facet of ['provider', 'category', 'resource_type', 'engine', 'maturity', 'support_level'] as const) {
    const value = query.filters[facet]?.[0];
    if (value !== undefined) opts[facet] = value;
  }
  const labels: Record<string, string> = {};
  for (const pair of query.filters.label ?? []) {
    const eq = pair.indexOf('=');
    if (eq > 0) labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (Object.keys(labels).length > 0) opts.labels = labels;
  if (query.sort) opts.sort = query.sort;
  return opts;
}

/** The values a component carries for a facet. */
function facetValues(c: ComponentDefinition, facet: FacetName): string[] {
  switch (facet) {
    case 'engine':
      return c.deployment_engines ?? [];
    case 'label':
      return Object.entries(c.labels ?? {}).map(([k, v]) => `${k}=${v}`);
    default: {
      const v = c[facet];
      return typeof v === 'string' && v !== '' ? [v] : [];
    }
  }
}

/**
 * Facet counts over the loaded components: what a server that predates `facets=` (design 10.1)
 * still lets the page show. Exact once every page is loaded.
 */
export function localFacets(items: readonly ComponentDefinition[]): Partial<Record<FacetName, FacetCount[]>> {
  const out: Partial<Record<FacetName, FacetCount[]>> = {};
  for (const facet of FACET_NAMES) {
    const counts = new Map<string, number>();
    for (const c of items) for (const v of facetValues(c, facet)) counts.set(v, (counts.get(v) ?? 0) + 1);
    out[facet] = [...counts].map(([value, count]) => ({ value, count })).sort(byCountThenValue);
  }
  return out;
}

function byCountThenValue(a: FacetCount, b: FacetCount): number {
  return b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
}

/** Whether a component carries every selected facet value (the local check of a server without facets). */
export function matchesFilters(c: ComponentDefinition, filters: CatalogQuery['filters']): boolean {
  for (const facet of FACET_NAMES) {
    const wanted = filters[facet];
    if (!wanted || wanted.length === 0) continue;
    const have = facetValues(c, facet);
    if (!wanted.every((w) => have.includes(w))) return false;
  }
  return true;
}

/** Orders loaded components as `sort` asks, for a server that does not know `sort=` yet. */
export function sortLocally<T extends ComponentDefinition>(
  items: T[],
  sort: SortOrder | null,
  searching: boolean,
): T[] {
  const order = sort ?? (searching ? 'relevance' : 'name');
  if (order === 'relevance') return items;
  const copy = [...items];
  if (order === 'name') copy.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  else copy.sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0));
  return copy;
}
