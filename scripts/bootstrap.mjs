#!/usr/bin/env node
// Makes `npm start` and `npm test` work from a fresh clone: installs the locked dependencies when
// node_modules is missing or older than package-lock.json. Uses only Node built-ins.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const lock = `${root}package-lock.json`;
const marker = `${root}node_modules/.package-lock.json`;

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`nestor needs Node.js >= 20.19; this is ${process.version}`);
  process.exit(1);
}

const fresh = existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
if (!fresh) {
  console.error('Installing dependencies (npm ci; better-sqlite3 is compiled from source, about two minutes)...');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, npm_config_build_from_source: 'true' },
  });
  if (result.status !== 0) {
    console.error('npm ci failed; see the output above.');
    process.exit(result.status ?? 1);
  }
}
