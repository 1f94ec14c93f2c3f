import type { ComponentDefinition } from '@nestor/sdk/browser';
import { describe, expect, it } from 'vitest';
import { listOptions, localFacets, matchesFilters, parseQuery, queryString, sortLocally } from './catalog-state.js';

const c = (name: string, over: Partial<ComponentDefinition> = {}) =>
  ({
    name,
    version: '1.0.0',
    provider: 'aws',
    category: 'database',
    resource_type: 'db',
    deployment_engines: ['terraform'],
    maturity: 'stable',
    support_level: 'supported',
    labels: { team: 'data' },
    updated_at: '2026-01-01T00:00:00.000Z',
    ...over,
  }) as ComponentDefinition;

describe('catalog URL state', () => {
  it('round-trips a search, its facets and its sort through the URL', () => {
    const query = parseQuery('?q=postgres&provider=aws&label=team%3Ddata&label=tier%3D1&sort=updated');
    expect(query).toEqual({
      q: 'postgres',
      sort: 'updated',
      filters: { provider: ['aws'], label: ['team=data', 'tier=1'] },
    });
    expect(parseQuery(queryString(query).slice(1))).toEqual(query);
    expect(queryString({ q: '', sort: null, filters: {} })).toBe('/');
  });

  it('keeps one value per facet but every label, and drops an unknown sort', () => {
    const query = parseQuery('?provider=aws&provider=gcp&sort=random&nonsense=1');
    expect(query.filters).toEqual({ provider: ['aws'] });
    expect(query.sort).toBeNull();
  });

  it('asks the server for every facet, with the selected filters and labels', () => {
    const opts = listOptions(parseQuery('?provider=aws&support_level=supported&label=team%3Ddata&sort=name'), 50);
    expect(opts).toMatchObject({
      limit: 50,
      provider: 'aws',
      support_level: 'supported',
      labels: { team: 'data' },
      sort: 'name',
    });
    expect(opts.facets).toEqual([
      'provider',
      'category',
      'resource_type',
      'engine',
      'maturity',
      'support_level',
      'label',
    ]);
  });
});

describe('facets of a server without them', () => {
  const items = [
    c('a'),
    c('b', { provider: 'gcp', labels: { team: 'web' } }),
    c('c', { deployment_engines: ['terraform', 'pulumi'] }),
  ];

  it('counts each value over the loaded components, most frequent first', () => {
    const facets = localFacets(items);
    expect(facets.provider).toEqual([
      { value: 'aws', count: 2 },
      { value: 'gcp', count: 1 },
    ]);
    expect(facets.engine).toEqual([
      { value: 'terraform', count: 3 },
      { value: 'pulumi', count: 1 },
    ]);
    expect(facets.label).toEqual([
      { value: 'team=data', count: 2 },
      { value: 'team=web', count: 1 },
    ]);
  });

  it('filters by every selected value and sorts when the server cannot', () => {
    expect(
      items.filter((i) => matchesFilters(i, { provider: ['aws'], engine: ['pulumi'] })).map((i) => i.name),
    ).toEqual(['c']);
    expect(items.filter((i) => matchesFilters(i, { label: ['team=data', 'team=web'] }))).toEqual([]);
    const dated = [c('x', { updated_at: '2026-01-01T00:00:00Z' }), c('y', { updated_at: '2026-03-01T00:00:00Z' })];
    expect(sortLocally(dated, 'updated', false).map((i) => i.name)).toEqual(['y', 'x']);
    expect(sortLocally([c('b'), c('a')], null, false).map((i) => i.name)).toEqual(['a', 'b']);
    // Relevance keeps the server's order.
    expect(sortLocally([c('b'), c('a')], null, true).map((i) => i.name)).toEqual(['b', 'a']);
  });
});
