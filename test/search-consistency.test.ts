// The search projection is kept up to date by every write rather than made again (docs/search.md,
// docs/decisions.md 30): kept word sets, their counts, ranked and recent orders are patched in
// place. This drives a real app on SQLite as a catalog is used (searches and lists asked between
// creates, new versions, label and maturity changes and deprecations, all through the API), then
// starts a second app on the same database, whose projection is built from the store, and asks both
// the same queries: every answer must be the same bytes.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalog, listLog, searchLog } from '../bench/catalog-gen.js';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { AUTH, testConfig } from './helpers.js';

const LOADED = 1_200;
const WRITES = 240;

describe('search projection patched by writes', () => {
  const { config, dir } = testConfig((c) => {
    c.store.type = 'sqlite';
    // Answers come from the projection, not from a response cache that a restart would not share.
    c.cache.enabled = false;
  });
  // A larger generated catalog starts with the smaller one: its further components are new names
  // whose dependencies are mostly loaded already.
  const { specs: loaded, names } = generateCatalog(LOADED, { seed: 42 });
  const further = generateCatalog(LOADED + WRITES, { seed: 42 }).specs.slice(loaded.length);
  let live: App;
  let fresh: App;
  const counts = { created: 0, versions: 0, patched: 0, deprecated: 0 };

  const send = async (app: App, method: 'POST' | 'PATCH', url: string, payload: unknown) => {
    const r = await app.server.inject({ method, url, headers: AUTH.write, payload: payload as object });
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(300);
  };
  const ask = async (app: App, url: string) => {
    const r = await app.server.inject({ method: 'GET', url, headers: AUTH.read });
    expect(r.statusCode, `${url}: ${r.body}`).toBe(200);
    return r.body;
  };

  beforeAll(async () => {
    live = await buildApp(config);
    for (const s of loaded) await send(live, 'POST', '/v1/components', s);
    const searches = searchLog(names, 1_000, { seed: 5 });
    const lists = listLog(300, { seed: 6 });
    // Queries first, so that word sets, their ranked and recent orders and counts are kept and the
    // writes below have something to patch.
    for (const url of searches.slice(0, 400)) await ask(live, url);
    const known = new Set(names);
    let q = 400;
    for (let i = 0; i < WRITES; i++) {
      const kind = i % 4;
      if (kind === 0) {
        const spec = further.find(
          (s) => s.version === '1.0.0' && !known.has(s.name) && (s.dependencies ?? []).every((d) => known.has(d.name)),
        );
        if (spec) {
          known.add(spec.name);
          await send(live, 'POST', '/v1/components', spec);
          counts.created++;
        }
      } else if (kind === 1) {
        const base = loaded[(i * 7_919) % loaded.length];
        if (base) {
          const words = `now behind pgbouncer with kafka${i % 7}`;
          await send(live, 'POST', '/v1/components', { ...base, version: `1.5.${i}`, description: words });
          counts.versions++;
        }
      } else if (kind === 2) {
        const name = names[(i * 104_729) % names.length] as string;
        const labels = { team: `kafka${i % 7}`, tier: 'gold', env: i % 2 ? 'redis' : 'prod' };
        await send(live, 'PATCH', `/v1/components/${name}/versions/1.0.0`, { labels, maturity: 'beta' });
        counts.patched++;
      } else {
        const name = names[(i * 31_337) % names.length] as string;
        await send(live, 'PATCH', `/v1/components/${name}/versions/1.0.0`, { deprecated: { reason: 'superseded' } });
        counts.deprecated++;
      }
      // Two queries between writes: a set is often read with moves waiting, and often patched twice.
      for (let k = 0; k < 2; k++) await ask(live, (searches[q++ % searches.length] ?? '') as string);
      if (i % 8 === 0) await ask(live, lists[i % lists.length] as string);
    }
    fresh = await buildApp(config);
  }, 240_000);

  afterAll(async () => {
    await fresh?.close();
    await live?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('wrote every kind of change', () => {
    expect(counts.created).toBeGreaterThan(40);
    expect(counts.versions).toBeGreaterThan(40);
    expect(counts.patched).toBeGreaterThan(40);
    expect(counts.deprecated).toBeGreaterThan(40);
  });

  it('answers searches and lists as a projection built from the store', async () => {
    const urls = [
      ...searchLog(names, 600, { seed: 5 }),
      ...listLog(200, { seed: 6 }),
      // Words only the writes brought: new versions' descriptions, patched labels.
      ...['pgbouncer', 'kafka3', 'kafka3 redis', 'gold', 'label:tier=gold', 'label:team=kafka2 aws'].map(
        (q) => `/v1/components/search?q=${encodeURIComponent(q)}&limit=20&facets=provider,maturity,label`,
      ),
      '/v1/components?maturity=beta&limit=50&facets=maturity,label&sort=updated',
      '/v1/components?label=tier=gold&limit=50&facets=provider',
    ];
    let differing = 0;
    for (const url of urls) {
      const [a, b] = [await ask(live, url), await ask(fresh, url)];
      if (a !== b) {
        differing++;
        expect.soft(a, url).toBe(b);
      }
    }
    expect(differing).toBe(0);
    // The writes are visible, so the comparison compared something.
    const gold = JSON.parse(await ask(live, '/v1/components?label=tier=gold&limit=1')) as { total: number };
    expect(gold.total).toBeGreaterThan(20);
    const bouncer = JSON.parse(await ask(live, '/v1/components/search?q=pgbouncer&limit=1')) as { total: number };
    expect(bouncer.total).toBeGreaterThan(20);
  });
});
