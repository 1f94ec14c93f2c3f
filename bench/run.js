// `npm run bench`: runs every benchmark against the built dist/ and prints figures and ratios.
// Usage: npm run bench [-- --only http,validation,impact,web,sse,git,dynamo,postgres] [-- --impact-components 100000] [-- --components 10000] [-- --duration 5]
//        [-- --subscribers 2000]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt } from './lib.js';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const only = arg('only', null)?.split(',');
const components = Number(arg('components', 10_000));
const duration = Number(arg('duration', 5));

const suites = {
  http: async () => (await import('./http.js')).benchHttp({ components, duration }),
  validation: async () => (await import('./validation.js')).benchValidation({ components }),
};
suites.impact = async () =>
  (await import('./impact.js')).benchImpact({ components: Number(arg('impact-components', 100_000)), duration });
suites.web = async () => (await import('./web.js')).benchWeb({ components });
suites.sse = async () => (await import('./sse-fanout.js')).benchSse({ subscribers: Number(arg('subscribers', 2000)) });
// These two drive several processes of their own and print their own figures; a non-zero exit
// means a figure missed its target.
for (const [name, file] of [
  ['git', './git-sync.js'],
  ['dynamo', './dynamo.js'],
  ['postgres', './postgres.js'],
]) {
  suites[name] = async () => {
    const result = spawnSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], { stdio: 'inherit' });
    return { title: `${name} (figures above)`, rows: [], pass: result.status === 0 };
  };
}

const results = [];
let failed = false;
for (const [name, run] of Object.entries(suites)) {
  if (only && !only.includes(name)) continue;
  process.stderr.write(`\n== ${name} ==\n`);
  try {
    const r = await run();
    results.push({ suite: name, ...r });
    console.log(`\n${r.title}`);
    for (const row of r.rows ?? []) {
      const parts = [row.name.padEnd(44)];
      if (row.rps !== undefined) parts.push(`${fmt(row.rps, 0).padStart(9)} req/s`);
      if (row.p50 !== undefined) parts.push(`p50 ${fmt(row.p50, 2)} ms`, `p99 ${fmt(row.p99, 2)} ms`);
      if (row.ratio !== undefined) parts.push(`ratio ${fmt(row.ratio, 2)}`);
      if (row.target) parts.push(`(target ${row.target})`);
      console.log(`  ${parts.join('  ')}`);
    }
    for (const e of r.extra ?? [])
      console.log(`  ${e.name.padEnd(44)}  ${e.value}${e.target ? `  (target ${e.target})` : ''}`);
    console.log(`  => ${r.pass ? 'meets targets' : 'MISSES a target'}`);
    if (!r.pass) failed = true;
  } catch (err) {
    failed = true;
    console.log(`  ${name} failed: ${err.stack ?? err}`);
  }
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/latest.json', import.meta.url),
  `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`,
);
process.exitCode = failed ? 1 : 0;
