import type { ComponentSpecInput, ScoredComponent } from '@nestor/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogFollower } from '../events/log-follower.js';
import { silentLogger } from '../observability/logging/logger.js';
import type { StoreFixture } from '../storage/contract.test-suite.js';
import { makeComponent } from '../storage/testing.js';
import { type CatalogQuery, SearchProjection } from './projection.js';
import { parseSearchText } from './query.js';

/** The catalog of the examples, shortened: what the searches were tried on. */
const CATALOG: Partial<ComponentSpecInput>[] = [
  {
    name: 'aws-rds-postgres',
    description: 'Amazon RDS for PostgreSQL with Multi-AZ, encrypted storage and automated backups.',
    category: 'database',
    resource_type: 'aws_db_instance',
    labels: { team: 'data', tier: '1' },
  },
  {
    name: 'azure-postgres-flexible',
    provider: 'azure',
    description: 'Azure Database for PostgreSQL Flexible Server with VNet integration.',
    category: 'database',
    resource_type: 'azurerm_postgresql_flexible_server',
    labels: { team: 'data' },
  },
  {
    name: 'gcp-cloudsql-postgres',
    provider: 'gcp',
    description: 'Cloud SQL for PostgreSQL with private IP only.',
    category: 'database',
    resource_type: 'google_sql_database_instance',
    deployment_engines: ['terraform', 'pulumi'],
  },
  {
    name: 'k8s-postgres-operator',
    provider: 'kubernetes',
    description: 'A PostgreSQL cluster run by an operator.',
    category: 'database',
    resource_type: 'postgresql_cluster',
    maturity: 'beta',
    labels: { team: 'platform' },
  },
  {
    name: 'aws-elasticache-redis',
    description: 'ElastiCache for Redis replication group with TLS in transit.',
    category: 'cache',
    resource_type: 'aws_elasticache_replication_group',
  },
  {
    name: 'k8s-redis',
    provider: 'kubernetes',
    description: 'Redis with Sentinel on Kubernetes and persistent volumes.',
    category: 'cache',
    resource_type: 'statefulset',
    support_level: 'community',
  },
  {
    name: 'gcp-gke-cluster',
    provider: 'gcp',
    description: 'GKE Standard cluster: a managed Kubernetes control plane.',
    category: 'compute',
    resource_type: 'google_container_cluster',
  },
  {
    name: 'aws-vpc',
    description: 'VPC with public and private subnets and NAT gateways; the database subnets are optional.',
    category: 'networking',
    resource_type: 'aws_vpc',
    labels: { team: 'network' },
  },
];

/**
 * The search projection over one store: the same catalog, the same answers, whatever the store
 * (DESIGN.md 10.1). Each store's test file calls this with a fresh store per test.
 */
export function describeSearchContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`search projection over ${name}`, () => {
    let fixture: StoreFixture;
    let projection: SearchProjection;
    let follower: LogFollower;

    beforeEach(async () => {
      fixture = await makeStore();
      // Half the catalog exists before the projection is built (start-up from the store's latest
      // versions), half arrives afterwards through the log.
      for (const spec of CATALOG.slice(0, 4)) await fixture.store.createComponent(makeComponent(spec));
      const logger = silentLogger;
      projection = new SearchProjection({ source: fixture.store, logger });
      follower = new LogFollower({ log: fixture.store, consumer: projection, logger, position: -1 });
      projection.attach(follower);
      await follower.catchUp(await fixture.store.headSequence());
      for (const spec of CATALOG.slice(4)) await fixture.store.createComponent(makeComponent(spec));
    });
    afterEach(async () => {
      follower.stop();
      await fixture.store.close();
      await fixture.cleanup?.();
    });

    const search = async (q: string, more: Partial<CatalogQuery> = {}) => {
      const parsed = parseSearchText(q);
      return projection.query({
        words: parsed.words,
        phrase: parsed.phrase,
        filters: parsed.filters,
        ranked: true,
        includePrerelease: false,
        limit: 20,
        facets: [],
        revision: await fixture.store.headSequence(),
        ...more,
      });
    };
    const names = async (q: string, more: Partial<CatalogQuery> = {}) =>
      (await search(q, more)).items.map((c) => c.name);

    it('finds every database component through its category, name matches first', async () => {
      const found = await names('database');
      expect(found.slice(0, 4).sort()).toEqual([
        'aws-rds-postgres',
        'azure-postgres-flexible',
        'gcp-cloudsql-postgres',
        'k8s-postgres-operator',
      ]);
      // aws-vpc mentions databases only in its description: found, ranked last.
      expect(found).toEqual([...found.slice(0, 4), 'aws-vpc']);
    });

    it('matches a word being typed as a prefix', async () => {
      expect((await names('postgre')).sort()).toEqual([
        'aws-rds-postgres',
        'azure-postgres-flexible',
        'gcp-cloudsql-postgres',
        'k8s-postgres-operator',
      ]);
    });

    it('ranks components matching every word above those matching some', async () => {
      const found = await names('redis cache');
      expect(found.slice(0, 2).sort()).toEqual(['aws-elasticache-redis', 'k8s-redis']);
      const scores = (await search('redis cache')).items.map((c) => (c as ScoredComponent).score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    });

    it('forgives one typo in a word of five letters or more', async () => {
      expect(await names('kubernets')).toContain('k8s-redis');
      expect(await names('kubernets')).toContain('gcp-gke-cluster');
      expect(await names('postgers')).toContain('aws-rds-postgres');
      expect(await names('rdss')).toEqual([]);
    });

    it('finds a hyphenated name by its parts, the name above other fields', async () => {
      expect(await names('rds')).toEqual(['aws-rds-postgres']);
      expect((await names('redis'))[0]).toMatch(/redis$/);
      expect((await names('k8s-redis'))[0]).toBe('k8s-redis');
    });

    it('filters with qualifiers; a qualifiers-only query is a list in name order', async () => {
      expect(await names('provider:kubernetes')).toEqual(['k8s-postgres-operator', 'k8s-redis']);
      expect(await names('postgres label:team=data')).toEqual(['aws-rds-postgres', 'azure-postgres-flexible'].sort());
      expect(await names('engine:pulumi category:database')).toEqual(['gcp-cloudsql-postgres']);
      expect(await names('maturity:beta')).toEqual(['k8s-postgres-operator']);
      expect(await names('provider:aws provider:gcp')).toEqual([]);
    });

    it('answers a page as JSON text equal to the serialised query, before and after a patch', async () => {
      const serialised = (r: Awaited<ReturnType<SearchProjection['query']>>) =>
        JSON.stringify({
          items: r.items,
          next_cursor: r.nextCursor,
          total: r.total,
          ...(r.facets ? { facets: r.facets } : {}),
        });
      const head = async () => fixture.store.headSequence();
      const queries = async (): Promise<CatalogQuery[]> => [
        {
          ...parseSearchText('postgres'),
          ranked: true,
          includePrerelease: false,
          limit: 2,
          facets: ['provider'],
          revision: await head(),
        },
        {
          words: [],
          phrase: '',
          filters: [],
          ranked: false,
          includePrerelease: false,
          limit: 3,
          facets: [],
          revision: await head(),
        },
        {
          words: [],
          phrase: '',
          filters: [{ facet: 'category', value: 'database' }],
          ranked: false,
          includePrerelease: false,
          limit: 50,
          facets: ['label'],
          sort: 'updated',
          revision: await head(),
        },
      ];
      for (const q of await queries()) {
        expect((await projection.page(q)).toString()).toBe(serialised(await projection.query(q)));
      }
      await fixture.store.updateComponent('aws-rds-postgres', '1.0.0', { labels: { team: 'web' }, maturity: 'beta' });
      for (const q of await queries()) {
        expect((await projection.page(q)).toString()).toBe(serialised(await projection.query(q)));
      }
      expect((await projection.page((await queries())[2] as CatalogQuery)).toString()).toContain('"team":"web"');
    });

    it('answers exact totals and facets over the whole filtered result, not the page', async () => {
      const r = await search('category:database', { limit: 1, facets: ['provider', 'label', 'maturity'] });
      expect(r.total).toBe(4);
      expect(r.items).toHaveLength(1);
      expect(r.facets).toEqual({
        provider: [
          { value: 'aws', count: 1 },
          { value: 'azure', count: 1 },
          { value: 'gcp', count: 1 },
          { value: 'kubernetes', count: 1 },
        ],
        label: [
          { value: 'team=data', count: 2 },
          { value: 'team=platform', count: 1 },
          { value: 'tier=1', count: 1 },
        ],
        maturity: [
          { value: 'stable', count: 3 },
          { value: 'beta', count: 1 },
        ],
      });
      const all = await projection.query({
        words: [],
        phrase: '',
        filters: [],
        ranked: false,
        includePrerelease: false,
        limit: 3,
        facets: ['category'],
      });
      expect(all.total).toBe(CATALOG.length);
      expect(all.facets?.category?.[0]).toEqual({ value: 'database', count: 4 });
    });

    it('pages by cursor without repeating or skipping, in every order', async () => {
      for (const sort of ['name', 'updated', 'relevance'] as const) {
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await search('a', { sort, limit: 3, cursor });
          seen.push(...page.items.map((c) => c.name));
          cursor = page.nextCursor;
        } while (cursor);
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen.length).toBe((await search('a', { sort, limit: 100 })).total);
      }
    });

    it('is built from the store with both picks of names led by a prerelease', async () => {
      const store = fixture.store;
      await store.createComponent(
        makeComponent({ ...CATALOG[0], version: '2.0.0-rc.1', description: 'Aurora preview' }),
      );
      await store.createComponent(
        makeComponent({ name: 'only-previews', version: '0.1.0-alpha.1', description: 'Aurora sketch' }),
      );
      const rebuilt = new SearchProjection({ source: store, logger: silentLogger });
      await rebuilt.onReset();
      const revision = await store.headSequence();
      for (const includePrerelease of [false, true]) {
        const ask = async (p: SearchProjection, words: string[]) =>
          (
            await p.query({
              words,
              phrase: '',
              filters: [],
              ranked: words.length > 0,
              includePrerelease,
              limit: 50,
              facets: ['provider', 'label'],
              revision,
            })
          ).items.map((c) => `${c.name}@${c.version}`);
        expect(await ask(rebuilt, [])).toEqual(await ask(projection, []));
        expect(await ask(rebuilt, ['aurora'])).toEqual(await ask(projection, ['aurora']));
      }
      const list = await rebuilt.query({
        words: [],
        phrase: '',
        filters: [],
        ranked: false,
        includePrerelease: false,
        limit: 50,
        facets: [],
      });
      expect(
        list.items.filter((c) => c.name === 'aws-rds-postgres' || c.name === 'only-previews').map((c) => c.version),
      ).toEqual(['1.0.0', '0.1.0-alpha.1']);
    });

    it('follows new versions, prereleases and patches through the log', async () => {
      const store = fixture.store;
      const rds = await store.getLatestComponent('aws-rds-postgres');
      await store.createComponent(
        makeComponent({ ...CATALOG[0], version: '2.0.0-rc.1', description: 'Aurora preview' }),
      );
      await store.updateComponent('aws-rds-postgres', rds?.version as string, { labels: { team: 'payments' } });
      expect(await names('aurora')).toEqual([]);
      expect(await names('aurora', { includePrerelease: true })).toEqual(['aws-rds-postgres']);
      expect(await names('label:team=payments')).toEqual(['aws-rds-postgres']);
      expect(await names('label:team=data')).toEqual(['azure-postgres-flexible']);
      await store.createComponent(makeComponent({ ...CATALOG[0], version: '2.0.0', description: 'Aurora' }));
      expect(await names('aurora')).toEqual(['aws-rds-postgres']);
      expect(await names('label:team=payments')).toEqual([]);
    });

    it('filters orphaned components (their listed version), following marks and lifts through the log', async () => {
      const store = fixture.store;
      const version = (name: string) => CATALOG.find((c) => c.name === name)?.version ?? '1.0.0';
      for (const name of ['aws-vpc', 'k8s-redis', 'gcp-cloudsql-postgres']) {
        await store.changeLifecycle(name, version(name), { kind: 'orphan', source: 'platform' });
      }
      const orphans = async (q: string) => names(q, { ranked: q !== '', orphaned: true, sort: 'name' });
      expect(await orphans('')).toEqual(['aws-vpc', 'gcp-cloudsql-postgres', 'k8s-redis']);
      expect(await orphans('postgres')).toEqual(['gcp-cloudsql-postgres']);
      expect(await orphans('category:cache')).toEqual(['k8s-redis']);
      // Not a facet: asking for facets never counts it.
      expect(
        Object.keys((await search('', { ranked: false, orphaned: true, facets: ['provider'] })).facets ?? {}),
      ).toEqual(['provider']);
      await store.changeLifecycle('k8s-redis', version('k8s-redis'), { kind: 'unorphan' });
      // A newer version that no source lost is what the list shows now.
      await store.createComponent(makeComponent({ ...CATALOG[7], version: '2.0.0' }));
      expect(await orphans('')).toEqual(['gcp-cloudsql-postgres']);
      // A projection built from the store (start-up, reset) knows the marks as well.
      const rebuilt = new SearchProjection({ source: store, logger: silentLogger });
      await rebuilt.onReset();
      const listed = await rebuilt.query({
        words: [],
        phrase: '',
        filters: [],
        ranked: false,
        orphaned: true,
        includePrerelease: false,
        limit: 20,
        facets: [],
      });
      expect(listed.items.map((c) => c.name)).toEqual(['gcp-cloudsql-postgres']);
    });
  });
}
