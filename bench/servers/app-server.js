// Child process for benchmarks: the real orchestrator on SQLite, seeded with N components through
// the catalog manager (full validation), listening on a free port. Reports over IPC.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, defaultConfig } from '../../packages/orchestrator/dist/main.js';
import { seedSpecs } from './seed.js';

const count = Number(process.argv[2] ?? 10_000);
const storeType = process.argv[3] ?? 'sqlite';
const dir = mkdtempSync(join(tmpdir(), 'nestor-bench-'));
const config = defaultConfig();
config.store.type = storeType;
config.data_dir = dir;
config.store.path = join(dir, 'nestor.db');
config.examples.enabled = false;
config.log.level = 'silent';
config.auth.tokens = [{ name: 'bench', token: 'bench-token', sha256: null, scopes: ['admin'] }];

const app = await buildApp(config);
const specs = seedSpecs(count);
const started = process.hrtime.bigint();
for (const spec of specs) await app.manager.createComponent(spec);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const address = await app.server.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ address, created: specs.length, createPerSecond: specs.length / seconds });
process.on('message', async (msg) => {
  if (msg === 'stop') {
    await app.close();
    process.exit(0);
  }
});
