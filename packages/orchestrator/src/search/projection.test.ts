import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../observability/logging/logger.js';
import type { ListQuery, Page } from '../storage/interfaces.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { makeComponent } from '../storage/testing.js';
import { SearchProjection } from './projection.js';

const LIST = {
  words: [],
  phrase: '',
  filters: [],
  ranked: false,
  includePrerelease: false,
  limit: 50,
  facets: [],
} as const;

/** JSON.stringify calls given a whole definition (a component's name, version and spec). */
function definitionStringifies(): { count: () => number } {
  const real = JSON.stringify;
  let count = 0;
  vi.spyOn(JSON, 'stringify').mockImplementation(((value: unknown, ...rest: []) => {
    if (value && typeof value === 'object' && 'name' in value && 'version' in value && 'digest' in value) count++;
    return real(value, ...rest);
  }) as typeof JSON.stringify);
  return { count: () => count };
}

/** A memory store of `count` components and a projection built from it. */
async function built(count: number): Promise<{ store: MemoryStore; projection: SearchProjection }> {
  const store = new MemoryStore();
  for (let i = 0; i < count; i++)
    await store.createComponent(makeComponent({ name: `svc-${String(i).padStart(3, '0')}` }));
  const projection = new SearchProjection({ source: store, logger: silentLogger });
  await projection.onReset();
  return { store, projection };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SearchProjection answer bytes', () => {
  it('are made as definitions are indexed, so a page serialises no definition', async () => {
    const { projection } = await built(120);
    const stringified = definitionStringifies();
    const page = JSON.parse((await projection.page({ ...LIST })).toString('utf8')) as { items: { name: string }[] };
    expect(stringified.count()).toBe(0);
    expect(page.items.map((c) => c.name)).toEqual((await projection.query({ ...LIST })).items.map((c) => c.name));
    expect(page.items).toHaveLength(50);
  });

  it('follow a change to a version that keeps its words (a deprecation, new labels)', async () => {
    const { store, projection } = await built(3);
    const before = (await store.readEvents(0, 1_000)).length;
    await store.updateComponent('svc-001', '1.0.0', {
      deprecated: { reason: 'Use svc-002' },
      labels: { team: 'payments' },
    });
    await projection.onEvents((await store.readEvents(0, 1_000)).slice(before));
    const ask = { ...LIST, words: ['svc'], phrase: 'svc', ranked: true, limit: 10 };
    const page = JSON.parse((await projection.page(ask)).toString('utf8')) as {
      items: { name: string; deprecated: unknown; labels: Record<string, string> }[];
    };
    expect(page.items.find((c) => c.name === 'svc-001')).toMatchObject({
      deprecated: { reason: 'Use svc-002' },
      labels: { team: 'payments' },
    });
    // The label is a facet value: the index follows it too.
    const byLabel = await projection.query({ ...LIST, filters: [{ facet: 'label', value: 'team=payments' }] });
    expect(byLabel.items.map((c) => c.name)).toEqual(['svc-001']);
  });

  it('are exactly the JSON of the query answer, ranked or not, with text of several bytes a character', async () => {
    const store = new MemoryStore();
    const texts = [
      'Base de données gérée — ça marche',
      'Datenbank für Zähler ✓',
      '数据库 服务',
      'plain ascii database',
    ];
    for (let i = 0; i < 12; i++) {
      await store.createComponent(
        makeComponent({
          name: `db-${i}`,
          description: texts[i % texts.length] as string,
          labels: { team: i % 2 === 0 ? 'équipe-données' : 'data' },
        }),
      );
    }
    const projection = new SearchProjection({ source: store, logger: silentLogger });
    await projection.onReset();
    const asks = [
      { ...LIST, limit: 5, facets: ['label', 'provider'] as const },
      { ...LIST, words: ['database'], phrase: 'database', ranked: true, limit: 5, facets: ['label'] as const },
      { ...LIST, words: ['db'], phrase: 'db', ranked: true, limit: 50, sort: 'name' as const },
      { ...LIST, words: ['nothing'], phrase: 'nothing', ranked: true, limit: 5, facets: ['provider'] as const },
    ];
    for (const ask of asks) {
      const r = await projection.query(ask);
      const expected = JSON.stringify({
        items: r.items,
        next_cursor: r.nextCursor,
        total: r.total,
        ...(r.facets ? { facets: r.facets } : {}),
      });
      expect((await projection.page(ask)).toString('utf8')).toBe(expected);
    }
  });

  it('are made again for a definition that changed after they were made', async () => {
    const { store, projection } = await built(3);
    const before = (await store.readEvents(0, 1_000)).length;
    const ask = { ...LIST, words: ['svc'], phrase: 'svc', ranked: true, limit: 10 };
    expect((await projection.page(ask)).toString('utf8')).not.toContain('Rewritten');
    await store.createComponent(makeComponent({ name: 'svc-001', version: '2.0.0', description: 'Rewritten' }));
    await projection.onEvents((await store.readEvents(0, 1_000)).slice(before));
    const page = JSON.parse((await projection.page(ask)).toString('utf8')) as {
      items: { name: string; version: string; description: string }[];
    };
    const changed = page.items.find((c) => c.name === 'svc-001');
    expect(changed).toMatchObject({ version: '2.0.0', description: 'Rewritten' });
  });
});

describe('SearchProjection built from the store', () => {
  it('indexes names as its listing reads them and reads the latest of the few led by a prerelease', async () => {
    // Enough names that two led by a prerelease are read one by one rather than by a second walk.
    const { store } = await built(1_100);
    await store.createComponent(makeComponent({ name: 'svc-005', version: '2.0.0-rc.1', description: 'Preview' }));
    await store.createComponent(makeComponent({ name: 'zz-previews', version: '0.1.0-alpha.1' }));
    const read = vi.spyOn(store, 'getLatestComponent');
    const listed = vi.spyOn(store, 'listComponentsJson');
    const projection = new SearchProjection({ source: store, logger: silentLogger });
    await projection.onReset();
    expect(read.mock.calls.map(([name]) => name).sort()).toEqual(['svc-005', 'zz-previews']);
    expect(listed.mock.calls.every(([q]) => q.includePrerelease === true)).toBe(true);
    const versions = async (includePrerelease: boolean) => {
      const r = await projection.query({ ...LIST, includePrerelease, limit: 2_000 });
      expect(r.total).toBe(1_101);
      return Object.fromEntries(
        r.items.filter((c) => c.name === 'svc-005' || c.name === 'zz-previews').map((c) => [c.name, c.version]),
      );
    };
    expect(await versions(false)).toEqual({ 'svc-005': '1.0.0', 'zz-previews': '0.1.0-alpha.1' });
    expect(await versions(true)).toEqual({ 'svc-005': '2.0.0-rc.1', 'zz-previews': '0.1.0-alpha.1' });
  });

  it('has a store that can read its rows ahead do so while its listing is walked, and ends it after', async () => {
    const { store } = await built(600);
    const stop = vi.fn();
    const readAhead = vi.fn(() => ({ stop, done: Promise.resolve(true) }));
    const listed = vi.spyOn(store, 'listComponentsJson');
    const source = {
      getLatestComponent: store.getLatestComponent.bind(store),
      listComponentsJson: store.listComponentsJson.bind(store),
      readAheadListed: readAhead,
    };
    const projection = new SearchProjection({ source, logger: silentLogger });
    await projection.onReset();
    expect(readAhead).toHaveBeenCalledTimes(1);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(listed.mock.calls.length).toBe(2);
    const order = (mock: { invocationCallOrder: number[] }, at = 0) => mock.invocationCallOrder.at(at) as number;
    expect(order(readAhead.mock)).toBeLessThan(order(listed.mock));
    expect(order(stop.mock)).toBeGreaterThan(order(listed.mock, -1));
    expect((await projection.query({ ...LIST, limit: 1 })).total).toBe(600);
  });

  it('asks for the next page before indexing this one, and leaves that page handled when the walk fails', async () => {
    const asked: (string | null | undefined)[] = [];
    let failNext: (err: Error) => void = () => {};
    const source = {
      getLatestComponent: async () => null,
      listComponentsJson: (q: ListQuery): Promise<Page<string>> => {
        asked.push(q.cursor);
        // The first page holds a definition that cannot be read; the second is still on its way.
        if (asked.length === 1) return Promise.resolve({ items: ['{"name": '], nextCursor: 'after-first' });
        return new Promise((_, reject) => {
          failNext = reject;
        });
      },
    };
    const projection = new SearchProjection({ source, logger: silentLogger });
    await expect(projection.onReset()).rejects.toThrow(SyntaxError);
    expect(asked).toEqual([null, 'after-first']);
    // The page asked for ahead fails after the walk did: unhandled, it would fail this run.
    failNext(new Error('connection lost'));
    await new Promise((r) => setTimeout(r, 20));
  });
});
