// Smoke test of the catalog-scale benchmark's inputs (bench/catalog-gen.js) at a small size, so the
// generator and the query logs cannot rot: the catalog is reproducible, passes full validation when
// created through the catalog manager in write order, and every query of every log answers 200.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalog, listLog, readLog, rng, searchLog, zipf } from '../bench/catalog-gen.js';
import type { App } from '../packages/orchestrator/src/main.js';
import { testApp } from './helpers.js';

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const COUNT = 400;

describe('catalog-scale generator', () => {
  const { specs, names } = generateCatalog(COUNT, { seed: 42 });

  it('is reproducible from its seed and differs with another seed', () => {
    expect(generateCatalog(COUNT, { seed: 42 })).toEqual({ specs, names });
    expect(generateCatalog(COUNT, { seed: 43 }).names).not.toEqual(names);
    // A larger catalog starts with the smaller one (the bench posts the components after it).
    expect(generateCatalog(COUNT + 50, { seed: 42 }).specs.slice(0, specs.length)).toEqual(specs);
  });

  it('writes realistic, unique names and dependencies on earlier components only', () => {
    expect(new Set(names).size).toBe(COUNT);
    const written = new Set<string>();
    for (const s of specs) {
      expect(s.name).toMatch(NAME);
      expect(s.name.length).toBeLessThanOrEqual(63);
      expect(s.name.split('-').length).toBeGreaterThanOrEqual(3);
      for (const d of s.dependencies ?? []) expect(written.has(d.name)).toBe(true);
      expect(Object.keys(s.labels ?? {})).toEqual(expect.arrayContaining(['team', 'env', 'tier']));
      written.add(s.name);
    }
    expect(specs.some((s) => s.version === '1.1.0')).toBe(true);
    expect(new Set(specs.map((s) => s.provider)).size).toBeGreaterThanOrEqual(4);
    expect(specs.filter((s) => (s.dependencies ?? []).length > 0).length).toBeGreaterThan(COUNT / 4);
  });

  it('draws Zipf ranks: rank 0 far more often than rank 100', () => {
    const r = rng(1);
    const draw = zipf(1000, 1.07, r);
    const counts = new Array(1000).fill(0);
    for (let i = 0; i < 20_000; i++) counts[draw()]++;
    expect(counts[0]).toBeGreaterThan(10 * counts[100]);
  });

  it('logs distinct queries of every kind the bench promises', () => {
    const search = searchLog(names, 1000);
    const list = listLog(1000);
    expect(new Set(search).size).toBe(1000);
    expect(new Set(list).size).toBe(1000);
    const q = search.map((p) => decodeURIComponent(new URL(p, 'http://x').searchParams.get('q') ?? ''));
    expect(q.filter((s) => s.length === 1).length).toBeGreaterThan(5); // first keystrokes
    expect(q.filter((s) => s.includes(' ') && !s.includes(':')).length).toBeGreaterThan(50); // two words
    expect(q.filter((s) => /\b(provider|category|engine|maturity|label):/.test(s)).length).toBeGreaterThan(50);
    expect(q.filter((s) => names.includes(s)).length).toBeGreaterThan(10); // whole names
    for (const p of [...search, ...list]) {
      expect(p).toContain('limit=20');
      expect(p).toContain('facets=');
      expect(p).toContain('sort=');
    }
    for (const p of list) expect(p).toMatch(/provider=[a-z0-9]+&label=/);
  });

  describe('against the real API (memory store)', () => {
    let app: App;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ app, cleanup } = await testApp());
      // Through the manager: full validation, as the bench's HTTP creates do.
      for (const s of specs.slice(0, 150)) {
        const r = await app.server.inject({
          method: 'POST',
          url: '/v1/components',
          headers: { authorization: 'Bearer test-write-token' },
          payload: s,
        });
        expect(r.statusCode, `${s.name}@${s.version}: ${r.body}`).toBeLessThan(300);
      }
    }, 120_000);
    afterAll(async () => cleanup());

    it('answers every query of the logs with 200', async () => {
      const loaded = names.filter((n) => specs.slice(0, 150).some((s) => s.name === n));
      const paths = [
        ...searchLog(loaded, 150),
        ...listLog(150),
        ...readLog(loaded, 50).exact,
        ...readLog(loaded, 50).latest,
      ];
      for (const url of paths) {
        const r = await app.server.inject({ method: 'GET', url });
        expect(r.statusCode, `${url}: ${r.body}`).toBe(200);
      }
    }, 120_000);
  });
});
