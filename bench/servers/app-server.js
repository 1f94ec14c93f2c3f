// Child process for benchmarks: the real orchestrator on the SQLite catalog in <dir>.
//   app-server.js <dir> --seed <count>   creates <count> components through the catalog manager
//                                         (full validation), reports `createPerSecond` and exits
//   app-server.js <dir> [--no-cache]      serves what <dir> holds on a free port, as a restarted
//                                         server would, until told to stop; `--no-cache` turns the
//                                         store and response caches off (every read hits SQLite)
// Reports over IPC.
import { join } from 'node:path';
import { buildApp, defaultConfig } from '../../packages/orchestrator/dist/main.js';
import { seedSpecs } from './seed.js';

const [dir, flag, count] = process.argv.slice(2);
if (!dir) throw new Error('usage: app-server.js <dir> [--seed <count>]');
const config = defaultConfig();
config.store.type = 'sqlite';
config.data_dir = dir;
config.store.path = join(dir, 'nestor.db');
config.examples.enabled = false;
config.log.level = 'silent';
// One load generator is one caller: the rate limit (600 a minute by default) would refuse nearly all.
config.limits.rate.max = 0;
if (flag === '--no-cache') config.cache.enabled = false;
config.auth.tokens = [{ name: 'bench', token: 'bench-token', sha256: null, scopes: ['admin'] }];

const app = await buildApp(config);
if (flag === '--seed') {
  const specs = seedSpecs(Number(count ?? 10_000));
  const started = process.hrtime.bigint();
  for (const spec of specs) await app.manager.createComponent(spec);
  const createPerSecond = specs.length / (Number(process.hrtime.bigint() - started) / 1e9);
  await app.close();
  process.send?.({ created: specs.length, createPerSecond });
  process.disconnect?.();
} else {
  const address = await app.server.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ address });
  process.on('message', async (msg) => {
    if (msg === 'stop') {
      await app.close();
      process.exit(0);
    }
  });
}
