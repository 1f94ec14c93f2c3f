#!/usr/bin/env node
// Regenerates schemas/component.schema.json from the SDK's TypeBox definitions (the ones that
// decode request bodies and source files). Run `npm run schemas`; a test fails while the committed
// file differs from what this writes.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { componentJsonSchema } = await import(new URL('../packages/sdk/dist/index.js', import.meta.url).href);
const target = `${root}schemas/component.schema.json`;
writeFileSync(target, `${JSON.stringify(componentJsonSchema(), null, 2)}\n`);
// The repository's formatter owns the layout, so that `biome check` and this script agree.
const biome = spawnSync('npx', ['biome', 'format', '--write', target], { cwd: root, stdio: 'inherit' });
process.exit(biome.status ?? 1);
