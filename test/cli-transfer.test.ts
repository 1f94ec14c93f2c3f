import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../packages/orchestrator/src/storage/sqlite/sqlite-store.js';
import { makeComponent, makeEngine } from '../packages/orchestrator/src/storage/testing.js';
import { runCli as cli } from './cli-support.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nestor-cli-transfer-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A SQLite data folder holding `names` components (one with a second version) and an engine. */
async function catalog(folder: string, names: string[]): Promise<void> {
  const store = new SqliteStore({ path: join(dir, folder, 'nestor.db') });
  for (const name of names) await store.createComponent(makeComponent({ name }));
  await store.createComponent(makeComponent({ name: names[0] as string, version: '1.1.0' }));
  await store.putEngine(makeEngine({ name: 'terraform' }));
  await store.close();
}

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; head?: number; component?: { name: string; version: string } });

describe('nestor export and import', () => {
  it('round-trips a SQLite catalog through a file into another data folder', async () => {
    await catalog('source', ['db-a', 'db-b', 'db-c']);
    const file = join(dir, 'catalog.ndjson');
    const exported = await cli(['export', '--store', 'sqlite', '--data-dir', join(dir, 'source'), file]);
    expect(exported.code).toBe(0);
    expect(exported.err).toContain('exported 4 versions of 3 components, 1 engines, head 4');
    const written = lines(file);
    expect(written.map((l) => l.type)).toEqual([
      'header',
      'component',
      'component',
      'component',
      'component',
      'engine',
    ]);
    expect(written[0]?.head).toBe(4);
    // Oldest first within a name.
    expect(written.slice(1, 3).map((l) => l.component?.version)).toEqual(['1.0.0', '1.1.0']);

    const imported = await cli(['import', '--store', 'sqlite', '--data-dir', join(dir, 'copy'), file]);
    expect(imported.code).toBe(0);
    expect(imported.err).toContain('imported 4 versions and 1 engines; event head 4');
    const again = join(dir, 'again.ndjson');
    expect((await cli(['export', '--store', 'sqlite', '--data-dir', join(dir, 'copy'), again])).code).toBe(0);
    const strip = (l: { type: string }) => (l.type === 'header' ? { ...l, exported_at: null } : l);
    expect(lines(again).map(strip)).toEqual(written.map(strip));
  });

  it('never overwrites a file, and leaves the one there as it was', async () => {
    await catalog('kept', ['kept-a']);
    const file = join(dir, 'taken.ndjson');
    writeFileSync(file, 'not mine to replace\n');
    const { code, err } = await cli(['export', '--store', 'sqlite', '--data-dir', join(dir, 'kept'), file]);
    expect(code).toBe(2);
    expect(err).toContain('it exists; export never overwrites');
    expect(readFileSync(file, 'utf8')).toBe('not mine to replace\n');
  });

  it('leaves no file behind when the export fails part way', async () => {
    await catalog('broken', ['broken-a', 'broken-b']);
    // A stored definition that no longer parses: the store opens, the export fails reading it.
    const db = new Database(join(dir, 'broken', 'nestor.db'));
    db.prepare("UPDATE components SET definition = '{not json' WHERE name = 'broken-b'").run();
    db.close();
    const file = join(dir, 'partial.ndjson');
    const { code, err } = await cli(['export', '--store', 'sqlite', '--data-dir', join(dir, 'broken'), file]);
    expect(code).not.toBe(0);
    expect(err).not.toMatch(/\n\s+at /);
    expect(existsSync(file)).toBe(false);
  });
});
