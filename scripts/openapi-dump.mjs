// Writes the OpenAPI document of an app built in-process (memory store, no examples) to a file,
// so `npm run lint:openapi` can lint it without a running server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, defaultConfig } from '../packages/orchestrator/dist/main.js';

const out = process.argv[2] ?? 'openapi.json';
const config = defaultConfig();
config.store.type = 'memory';
const dir = mkdtempSync(join(tmpdir(), 'nestor-openapi-'));
config.data_dir = dir;
config.store.path = join(dir, 'nestor.db');
config.examples.enabled = false;
config.log.level = 'silent';
const app = await buildApp(config, {});
await app.server.ready();
writeFileSync(out, `${JSON.stringify(app.server.swagger(), null, 2)}\n`);
await app.close();
rmSync(dir, { recursive: true, force: true });
