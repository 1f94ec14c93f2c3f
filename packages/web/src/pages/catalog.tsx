import type { ComponentDefinition, FacetCount, FacetName, RevisionedPage } from '@nestor/sdk/browser';
import { FACET_NAMES } from '@nestor/sdk/browser';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, describeError, noteError } from '../api.js';
import {
  type CatalogQuery,
  listOptions,
  localFacets,
  matchesFilters,
  parseQuery,
  queryString,
  sortLocally,
} from '../catalog-state.js';
import { Badges, ErrorNote } from '../components/badges.js';
import { VirtualList } from '../components/virtual-list.js';
import { useEvents, useThrottled } from '../hooks.js';
import { componentPath, navigate } from '../router.js';

/** Typing settles this long before a search is sent (older answers are aborted anyway). */
const DEBOUNCE_MS = 40;
const PAGE_SIZE = 50;
const ROW_HEIGHT = 76;

interface Results {
  items: ComponentDefinition[];
  nextCursor: string | null;
  total: number | null;
  facets: Partial<Record<FacetName, FacetCount[]>>;
  /** True when the server counted the facets (design 10.1); false: counted over what is loaded. */
  serverFacets: boolean;
}

function fetchPage(query: CatalogQuery, limit: number, cursor: string | null, signal: AbortSignal) {
  const opts = { ...listOptions(query, limit), ...(cursor ? { cursor } : {}) };
  return query.q.trim() !== ''
    ? api().searchComponents(query.q.trim(), opts, { signal })
    : api().listComponents(opts, { signal });
}

function toResults(
  query: CatalogQuery,
  page: RevisionedPage<ComponentDefinition>,
  before: ComponentDefinition[],
): Results {
  const all = [...before, ...page.items];
  if (page.facets) {
    return {
      items: all,
      nextCursor: page.next_cursor,
      total: page.total ?? null,
      facets: page.facets,
      serverFacets: true,
    };
  }
  // A server before design 10.1: filter, order and count what is loaded here.
  const items = sortLocally(
    all.filter((c) => matchesFilters(c, query.filters)),
    query.sort,
    query.q.trim() !== '',
  );
  return {
    items,
    nextCursor: page.next_cursor,
    total: page.total ?? (page.next_cursor === null ? items.length : null),
    facets: localFacets(items),
    serverFacets: false,
  };
}

export function CatalogPage({ search }: { search: string }) {
  const query = useMemo(() => parseQuery(search), [search]);
  const [text, setText] = useState(query.q);
  const [results, setResults] = useState<Results | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [since, setSince] = useState<number | undefined>(undefined);
  const inFlight = useRef<AbortController | null>(null);
  const loadingMore = useRef(false);
  const searchBox = useRef<HTMLInputElement>(null);
  // The q this page last put in the URL while typing.
  const sent = useRef(query.q);
  // Filters start folded on a phone, so that the results come first.
  const [filtersOpen] = useState(() => !matchMedia('(max-width: 760px)').matches);

  // The URL changed from outside (back, forward, a link): the box follows it.
  useEffect(() => {
    if (query.q !== sent.current) setText(query.q);
    sent.current = query.q;
  }, [query.q]);

  const load = useCallback(
    (limit: number) => {
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      loadingMore.current = false;
      setLoading(true);
      fetchPage(query, limit, null, controller.signal).then(
        (page) => {
          if (controller.signal.aborted) return;
          setResults(toResults(query, page, []));
          setError(null);
          setLoading(false);
          if (page.revision !== null) setSince((s) => s ?? page.revision ?? undefined);
        },
        (err: unknown) => {
          if (controller.signal.aborted) return;
          noteError(err);
          setError(err);
          setLoading(false);
        },
      );
    },
    [query],
  );

  useEffect(() => {
    load(PAGE_SIZE);
    return () => inFlight.current?.abort();
  }, [load]);

  const loadMore = useCallback(() => {
    if (!results?.nextCursor || loadingMore.current || loading) return;
    loadingMore.current = true;
    const controller = inFlight.current ?? new AbortController();
    const before = results.items;
    fetchPage(query, PAGE_SIZE, results.nextCursor, controller.signal).then(
      (page) => {
        loadingMore.current = false;
        if (controller.signal.aborted) return;
        setResults((r) => {
          const merged = toResults(query, page, before);
          // Facets counted by the server cover the whole result already.
          return r?.serverFacets ? { ...merged, facets: r.facets, total: r.total } : merged;
        });
      },
      (err: unknown) => {
        loadingMore.current = false;
        if (!controller.signal.aborted) noteError(err);
      },
    );
  }, [results, query, loading]);

  // Live: a component published, changed or deprecated reloads what is shown (at most twice a second).
  const reloadLive = useThrottled(() => load(Math.min(500, Math.max(PAGE_SIZE, results?.items.length ?? 0))), 500);
  useEvents(
    since === undefined ? null : { types: ['component.created', 'component.updated', 'component.deprecated'] },
    { onEvent: reloadLive, onReset: reloadLive },
    [since === undefined],
    since,
  );

  useEffect(() => {
    if (text === query.q) return;
    const timer = setTimeout(() => {
      sent.current = text;
      navigate(queryString({ ...query, q: text }), { replace: true });
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, query]);

  // "/" focuses the search box from anywhere on the page.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) {
        e.preventDefault();
        searchBox.current?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const toggle = (facet: FacetName, value: string, on: boolean) => {
    const current = query.filters[facet] ?? [];
    const next = on ? (facet === 'label' ? [...current, value] : [value]) : current.filter((v) => v !== value);
    navigate(queryString({ ...query, q: text, filters: { ...query.filters, [facet]: next } }));
  };

  const searching = query.q.trim() !== '';
  const count = results ? (results.total ?? results.items.length) : 0;
  const countText = !results
    ? 'Loading…'
    : results.total === null
      ? `${results.items.length}+ components`
      : `${count} component${count === 1 ? '' : 's'}`;

  return (
    <div class="catalog">
      <h1 class="visually-hidden">Catalog</h1>
      <div class="search-row">
        <input
          ref={searchBox}
          class="search"
          type="search"
          aria-label="Search components"
          placeholder="Search components (press / to focus): postgres, provider:aws, label:team=data"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          autoComplete="off"
          spellcheck={false}
        />
        <label class="sort">
          <span>Sort</span>
          <select
            value={query.sort ?? (searching ? 'relevance' : 'name')}
            onChange={(e) =>
              navigate(queryString({ ...query, q: text, sort: e.currentTarget.value as CatalogQuery['sort'] }))
            }
          >
            <option value="relevance" disabled={!searching}>
              Relevance
            </option>
            <option value="name">Name</option>
            <option value="updated">Recently updated</option>
          </select>
        </label>
      </div>
      <div class="catalog-body">
        <aside class="facets" aria-label="Filters">
          <details open={filtersOpen}>
            <summary>Filters</summary>
            {results ? <Facets query={query} results={results} onToggle={toggle} /> : <p class="muted">Loading…</p>}
          </details>
        </aside>
        <section class="results" aria-label="Results" aria-busy={loading}>
          <p class="count" aria-live="polite">
            {countText}
            {loading && results ? <span class="muted"> · updating…</span> : null}
          </p>
          {error ? (
            <ErrorNote
              message={
                searching
                  ? `The search for “${query.q}” failed. ${describeError(error)}`
                  : `The catalog could not be loaded. ${describeError(error)}`
              }
              onRetry={() => load(PAGE_SIZE)}
            />
          ) : null}
          {results && results.items.length === 0 && !error ? (
            <p class="empty">
              No component matches{searching ? ` “${query.q}”` : ''}
              {Object.values(query.filters).some((v) => v && v.length > 0) ? ' with these filters' : ''}.
            </p>
          ) : null}
          {results && results.items.length > 0 ? (
            <VirtualList
              items={results.items}
              rowHeight={ROW_HEIGHT}
              keyOf={(c) => c.name}
              total={results.total ?? undefined}
              label="Components"
              onNearEnd={loadMore}
              renderRow={(c) => <ResultRow c={c} />}
            />
          ) : null}
        </section>
      </div>
    </div>
  );
}

function ResultRow({ c }: { c: ComponentDefinition }) {
  return (
    <a class="row" href={componentPath(c.name)}>
      <span class="row-head">
        <strong class="row-name">{c.name}</strong> <span class="version">{c.version}</span> <Badges c={c} compact />
      </span>
      <span class="row-meta">
        {c.provider} · {c.category} · {c.resource_type}
      </span>
      <span class="row-desc">{c.description}</span>
    </a>
  );
}

function Facets({
  query,
  results,
  onToggle,
}: {
  query: CatalogQuery;
  results: Results;
  onToggle: (facet: FacetName, value: string, on: boolean) => void;
}) {
  return (
    <div>
      {results.serverFacets || results.nextCursor === null ? null : (
        <p class="muted small">Counts cover the {results.items.length} components loaded so far.</p>
      )}
      {FACET_NAMES.map((facet) => {
        const counts = results.facets[facet] ?? [];
        const selected = query.filters[facet] ?? [];
        // Selected values stay visible (to be unticked) even when the server did not count them.
        const shown = [...counts];
        for (const value of selected) if (!shown.some((c) => c.value === value)) shown.push({ value, count: 0 });
        if (shown.length === 0) return null;
        return <FacetGroup key={facet} facet={facet} counts={shown} selected={selected} onToggle={onToggle} />;
      })}
    </div>
  );
}

const COLLAPSED = 8;

function FacetGroup({
  facet,
  counts,
  selected,
  onToggle,
}: {
  facet: FacetName;
  counts: FacetCount[];
  selected: string[];
  onToggle: (facet: FacetName, value: string, on: boolean) => void;
}) {
  const [expanded, setExpanded] = useState(false);
  const visible = expanded ? counts : counts.slice(0, COLLAPSED);
  return (
    <fieldset class="facet">
      <legend>{facet}</legend>
      {visible.map((c) => {
        const id = `f-${facet}-${encodeURIComponent(c.value)}`;
        return (
          <div class="check" key={c.value}>
            <input
              id={id}
              type="checkbox"
              checked={selected.includes(c.value)}
              onChange={(e) => onToggle(facet, c.value, e.currentTarget.checked)}
            />
            <label for={id}>{`${c.value} (${c.count})`}</label>
          </div>
        );
      })}
      {counts.length > COLLAPSED ? (
        <button type="button" class="link" aria-expanded={expanded} onClick={() => setExpanded(!expanded)}>
          {expanded ? 'Show fewer' : `Show all ${counts.length}`}
        </button>
      ) : null}
    </fieldset>
  );
}
