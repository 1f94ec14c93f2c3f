// The catalog browser's targets (issue 19), in headless Chromium against a real server holding
// `components` components (SQLite, written straight into the store; caches on):
//   - initial load: compressed JavaScript of index.html's scripts and preloads <= 200 KB (gzip -9);
//   - first render: navigation start to the first result rows painted <= 1 s (median of 5 cold loads);
//   - type to paint: the last keystroke of a query to its results painted <= 150 ms (p95 of 20
//     queries, debounce included).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { SqliteStore } from '../packages/orchestrator/dist/storage/sqlite/sqlite-store.js';
import { computeDigest } from '../packages/sdk/dist/index.js';
import { fmt, startChild, stopChild } from './lib.js';
import { seedSpecs } from './servers/seed.js';

const WEB_DIST = fileURLToPath(new URL('../packages/web/dist/', import.meta.url));
const CHROMIUM = process.env.NESTOR_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Bytes of the JavaScript index.html loads at once, raw and compressed. */
export function initialJavaScript(dist = WEB_DIST) {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const files = [
    ...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g),
  ].map((m) => m[1]);
  let raw = 0;
  let gzip = 0;
  let brotli = 0;
  for (const file of files) {
    const body = readFileSync(join(dist, file));
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
    brotli += brotliCompressSync(body).length;
  }
  return { files, raw, gzip, brotli };
}

async function generate(dir, count) {
  const store = new SqliteStore({ path: join(dir, 'nestor.db') });
  const db = store.db;
  db.exec('BEGIN');
  for (const spec of seedSpecs(count)) await store.createComponent({ ...spec, digest: computeDigest(spec) });
  db.exec('COMMIT');
  await store.close();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

/** Records (in the page) when the first result rows are painted: the frame after they appear. */
function watchFirstRows() {
  const done = () => requestAnimationFrame(() => setTimeout(() => (window.__firstRows = performance.now()), 0));
  const observer = new MutationObserver(() => {
    if (document.querySelector('.vlist li')) {
      observer.disconnect();
      done();
    }
  });
  document.addEventListener('DOMContentLoaded', () =>
    observer.observe(document.body, { childList: true, subtree: true }),
  );
}

/** Types `query` as one input event and resolves with the ms until the first row is `expected`, painted. */
function typeToPaint([query, expected]) {
  return new Promise((resolve, reject) => {
    const box = document.querySelector('input[type="search"]');
    const list = document.querySelector('.vlist');
    const start = performance.now();
    const check = () => {
      const first = document.querySelector('.vlist li[data-index="0"] .row-name');
      if (first?.textContent === expected) {
        observer.disconnect();
        requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - start), 0));
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(list?.parentElement ?? document.body, { childList: true, subtree: true, characterData: true });
    setTimeout(() => reject(new Error(`no results for ${query} after 5 s`)), 5000);
    box.value = query;
    box.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

export async function benchWeb({ components = 10_000 } = {}) {
  if (!existsSync(join(WEB_DIST, 'index.html'))) throw new Error('packages/web/dist is missing: run npm run build');
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM} (apt-get install -y chromium)`);
  const js = initialJavaScript();
  const dir = mkdtempSync(join(tmpdir(), 'nestor-bench-web-'));
  let child;
  let browser;
  await generate(dir, components);
  const started = await startChild('./servers/app-server.js', [dir]);
  child = started.child;
  const base = started.info.address;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    // Warm the server's caches and Chromium once; then cold page loads (new context each time).
    const firstRender = [];
    for (let i = 0; i < 6; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.addInitScript(watchFirstRows);
      await page.goto(`${base}/`);
      await page.waitForFunction(() => window.__firstRows !== undefined, null, { timeout: 10_000 });
      if (i > 0) firstRender.push(await page.evaluate(() => window.__firstRows));
      await context.close();
    }

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('.vlist li');
    const rows = await page.evaluate(() => document.querySelectorAll('.vlist li').length);
    const typing = [];
    for (let i = 0; i < 21; i++) {
      const n = Math.floor(((i + 1) * 7919) % components);
      const ms = await page.evaluate(typeToPaint, [`bench-${n}`, `bench-${n}`]).catch(() => null);
      if (ms === null) throw new Error(`search for bench-${n} did not rank it first`);
      if (i > 0) typing.push(ms);
      await page.evaluate(() => new Promise((r) => setTimeout(r, 100)));
    }
    await context.close();

    const render = median(firstRender);
    const typeP50 = median(typing);
    const typeP95 = percentile(typing, 95);
    const load = loadavg()
      .map((l) => fmt(l, 1))
      .join(', ');
    const pass = js.gzip <= 200 * 1024 && render <= 1000 && typeP95 <= 150;
    return {
      title: `Catalog browser over ${components} components (headless Chromium, SQLite, caches on)`,
      rows: [],
      extra: [
        { name: 'initial JavaScript (raw)', value: `${fmt(js.raw / 1024, 1)} KB in ${js.files.length} file(s)` },
        { name: 'initial JavaScript (gzip -9)', value: `${fmt(js.gzip / 1024, 1)} KB`, target: '<= 200 KB' },
        { name: 'initial JavaScript (brotli, as served)', value: `${fmt(js.brotli / 1024, 1)} KB` },
        {
          name: 'first render, median of 5 cold loads',
          value: `${fmt(render, 0)} ms (${rows} rows in the DOM)`,
          target: '<= 1000 ms',
        },
        {
          name: 'type to paint, 20 queries',
          value: `p50 ${fmt(typeP50, 0)} ms, p95 ${fmt(typeP95, 0)} ms (40 ms debounce included)`,
          target: 'p95 <= 150 ms',
        },
        { name: 'load average during the run (1, 5, 15 min)', value: load },
      ],
      pass,
    };
  } finally {
    await browser?.close();
    if (child) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const components = Number(process.argv[process.argv.indexOf('--components') + 1] || 10_000);
  const r = await benchWeb({ components });
  console.log(r.title);
  for (const e of r.extra) console.log(`  ${e.name.padEnd(44)}  ${e.value}${e.target ? `  (target ${e.target})` : ''}`);
  console.log(`  => ${r.pass ? 'meets targets' : 'MISSES a target'}`);
  process.exitCode = r.pass ? 0 : 1;
}
