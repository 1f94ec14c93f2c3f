// Impact at scale: 100 000 components with 5 dependencies each, written straight into a SQLite
// store (no HTTP, no validation: this measures reads). One "popular" version has thousands of
// dependents. Against a server with its caches off, compares the p99 of
// GET /v1/components/{popular}/versions/{v}/impact with the p99 of an exact-version GET in the
// same run (target: impact p99 <= 10x exact p99, DESIGN.md 10.2 / issue 16).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../packages/orchestrator/dist/storage/sqlite/sqlite-store.js';
import { computeDigest, normalizeSpec } from '../packages/sdk/dist/index.js';
import { fmt, load, startChild, stopChild } from './lib.js';

/** Base components that everything depends on; `imp-0` is the popular one. */
const POPULAR = 20;

function spec(i, version, deps) {
  return normalizeSpec({
    name: `imp-${i}`,
    version,
    description: `Impact bench component ${i}`,
    provider: 'aws',
    category: 'network',
    resource_type: `kind-${i % 50}`,
    dependencies: deps,
    required_inputs: [{ name: 'size', type: 'string' }],
    outputs: [{ name: 'endpoint', type: 'string' }],
  });
}

/**
 * Component i > POPULAR depends on one popular base (i mod POPULAR), so each base has about
 * count / POPULAR dependents, and on four other earlier components chosen deterministically.
 */
export async function generate(path, count) {
  const store = new SqliteStore({ path });
  const started = performance.now();
  // Batches of writes in one outer SQLite transaction (each create becomes a savepoint inside it):
  // the store's own write path, rows, index entries and events, without a commit per component.
  // Reaches into the store's connection, which only a benchmark may do.
  const db = store.db;
  let pending = 0;
  db.exec('BEGIN');
  const put = async (s) => {
    await store.createComponent({ ...s, digest: computeDigest(s) });
    if (++pending % 5_000 === 0) {
      db.exec('COMMIT');
      db.exec('BEGIN');
    }
  };
  for (let i = 0; i < POPULAR; i++) {
    await put(spec(i, '1.0.0', []));
    await put(spec(i, '1.1.0', []));
  }
  await put(spec(0, '2.0.0', []));
  for (let i = POPULAR; i < count; i++) {
    const deps = [{ name: `imp-${i % POPULAR}`, version_range: i % 7 === 0 ? '~1.0.0' : '^1.0.0' }];
    for (let k = 1; deps.length < 5; k++) {
      const j = POPULAR + ((i * 7919 + k * 104729) % Math.max(1, i - POPULAR));
      if (j < i && !deps.some((d) => d.name === `imp-${j}`)) deps.push({ name: `imp-${j}`, version_range: '*' });
      if (k > 50) break;
    }
    await put(spec(i, '1.0.0', deps));
  }
  db.exec('COMMIT');
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return seconds;
}

export async function benchImpact({ components = 100_000, duration = 5 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nestor-bench-impact-'));
  try {
    const seconds = await generate(join(dir, 'nestor.db'), components);
    const { child, info } = await startChild('./servers/app-server.js', [dir, '--no-cache']);
    const base = info.address;
    const exactUrl = `${base}/v1/components/imp-${Math.floor(components / 2)}/versions/1.0.0`;
    const impactUrl = `${base}/v1/components/imp-0/versions/1.1.0/impact`;
    const dependents = (await (await fetch(impactUrl)).json()).items.length;
    // Warm both (the first impact read loads the index entry) and the JIT, then interleave rounds.
    await load({ url: exactUrl, duration: 1, connections: 8 });
    await load({ url: impactUrl, duration: 1, connections: 8 });
    const exactRounds = [];
    const impactRounds = [];
    for (let r = 0; r < 3; r++) {
      exactRounds.push(await load({ url: exactUrl, duration, connections: 8 }));
      impactRounds.push(await load({ url: impactUrl, duration, connections: 8 }));
    }
    await stopChild(child);
    const median = (rounds) => [...rounds].sort((a, b) => a.p99 - b.p99)[1];
    const exact = median(exactRounds);
    const impact = median(impactRounds);
    // autocannon reports whole milliseconds; a p99 of 0 is below its resolution.
    const ratio = impact.p99 / Math.max(exact.p99, 1);
    return {
      title: `Impact over ${components} components x 5 dependencies (SQLite, caches off, 8 connections)`,
      rows: [
        { name: 'GET exact version, caches off', ...exact },
        { name: `GET impact of imp-0@1.1.0 (${dependents} dependents)`, ...impact, ratio, target: 'p99 <= 10x exact' },
      ],
      extra: [{ name: 'generation into SQLite', value: `${fmt(seconds, 1)} s (${fmt(components / seconds, 0)}/s)` }],
      pass: ratio <= 10,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
