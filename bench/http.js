// HTTP read and write benchmarks (issue 2 targets):
// - exact-version GET with a warm cache vs a bare node:http server serving the same bytes (>= 70 %)
// - latest, list(50) and search at N components: p99 <= 10 ms at 32 connections
// - create with full validation on SQLite: >= 2 000 components/s
import { fmt, load, startChild, stopChild } from './lib.js';

export async function benchHttp({ components = 10_000, duration = 5 } = {}) {
  const { child: appChild, info: appInfo } = await startChild('./servers/app-server.js', [
    String(components),
    'sqlite',
  ]);
  const base = appInfo.address;
  const exactUrl = `${base}/v1/components/bench-42/versions/1.0.0`;
  const sample = await fetch(exactUrl);
  const body = await sample.text();
  const headers = {};
  for (const [k, v] of sample.headers)
    if (!['content-length', 'date', 'connection', 'keep-alive'].includes(k)) headers[k] = v;
  const { child: bareChild, info: bareInfo } = await startChild('./servers/bare-server.js', [], { body, headers });

  await load({ url: exactUrl, duration: 1 }); // warm the caches and the JIT
  await load({ url: bareInfo.address, duration: 1 });
  const bare = await load({ url: bareInfo.address, duration });
  const exact = await load({ url: exactUrl, duration });
  const latest = await load({ url: `${base}/v1/components/bench-4242`, duration });
  const list = await load({ url: `${base}/v1/components?limit=50&provider=aws`, duration });
  const search = await load({ url: `${base}/v1/components/search?q=postgres&limit=50`, duration });
  await stopChild(bareChild);
  await stopChild(appChild);

  const rows = [
    { name: 'bare node:http (same bytes)', ...bare },
    { name: 'GET exact version (warm)', ...exact, ratio: exact.rps / bare.rps, target: 'ratio >= 0.70' },
    { name: `GET latest (${components} components)`, ...latest, target: 'p99 <= 10 ms' },
    { name: `GET list limit=50 (${components})`, ...list, target: 'p99 <= 10 ms' },
    { name: `GET search (${components})`, ...search, target: 'p99 <= 10 ms' },
  ];
  return {
    title: 'HTTP reads and creates (SQLite, 32 connections)',
    rows,
    extra: [
      {
        name: `create with full validation (${components} on SQLite)`,
        value: `${fmt(appInfo.createPerSecond, 0)}/s`,
        target: '>= 2000/s',
      },
    ],
    pass:
      exact.rps / bare.rps >= 0.7 &&
      latest.p99 <= 10 &&
      list.p99 <= 10 &&
      search.p99 <= 10 &&
      appInfo.createPerSecond >= 2000,
  };
}
