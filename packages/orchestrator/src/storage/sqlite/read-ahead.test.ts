import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeComponent } from '../testing.js';
import { startReadAhead } from './read-ahead.js';
import { SqliteStore } from './sqlite-store.js';

describe('startReadAhead', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestor-read-ahead-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A database file holding `count` components; its path. */
  async function database(count: number): Promise<string> {
    const dir = tempDir();
    const path = join(dir, 'nestor.db');
    const store = new SqliteStore({ path });
    for (let i = 0; i < count; i++) await store.createComponent(makeComponent({ name: `svc-${i}` }));
    await store.close();
    return path;
  }

  it('reads every listed row on a thread of its own, step by step, while the file stays writable', async () => {
    const path = await database(3);
    const read = startReadAhead(path, 10_000);
    expect(await read.done).toBe(true);
    read.stop();
    const store = new SqliteStore({ path });
    await store.createComponent(makeComponent({ name: 'after' }));
    expect((await store.listComponentNames()).length).toBe(4);
    await store.close();
  });

  it('ends when stopped, and fails quietly on a file that is not there', async () => {
    const path = await database(1);
    const stopped = startReadAhead(path, 1e12);
    stopped.stop();
    expect(await stopped.done).toBe(false);
    expect(await startReadAhead(join(tempDir(), 'missing.db'), 10).done).toBe(false);
  });
});
