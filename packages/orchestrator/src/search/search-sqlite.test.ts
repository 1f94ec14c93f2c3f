import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { describeSearchContract } from './search-contract.test-suite.js';

describeSearchContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nestor-search-'));
  return {
    store: new SqliteStore({ path: join(dir, 'nestor.db') }),
    cleanup: async () => rmSync(dir, { recursive: true }),
  };
});
