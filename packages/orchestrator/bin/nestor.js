#!/usr/bin/env node
// The `nestor` command. Runs the compiled CLI; `npm run build` produces dist/.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cmd/root.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('nestor: dist/ is missing; run `npm run build` first (npm start does it for you).');
  process.exit(1);
}
const { run } = await import(entry.href);
process.exitCode = await run(process.argv);
