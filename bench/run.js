// `npm run bench`: runs every benchmark against the built dist/ and prints figures and ratios.
// Usage: npm run bench [-- --only http,validation,creates,impact,web,scale,sse,git,dynamo,postgres] [-- --writers 32 --postgres] [-- --impact-components 100000] [-- --components 10000] [-- --duration 5]
//        [-- --subscribers 2000] [-- --scale-components 100000 --queries 20000 --stores sqlite,postgres --quick]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSuite } from './lib.js';

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
  creates: async () =>
    (await import('./creates.js')).benchCreates({
      duration: Math.min(duration, 5),
      writers: Number(arg('writers', 32)),
      postgres: args.includes('--postgres'),
    }),
};
suites.impact = async () =>
  (await import('./impact.js')).benchImpact({ components: Number(arg('impact-components', 100_000)), duration });
suites.web = async () => (await import('./web.js')).benchWeb({ components });
suites.scale = async () => {
  const { benchCatalogScale, parseScaleArgs } = await import('./catalog-scale.js');
  return benchCatalogScale(parseScaleArgs(args, { standalone: false }));
};
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
    printSuite(r);
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
