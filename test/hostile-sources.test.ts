import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogManager } from '../packages/orchestrator/src/catalog/manager.js';
import { LocalChangeFeed } from '../packages/orchestrator/src/events/change-feed.js';
import { GitClient } from '../packages/orchestrator/src/git/client.js';
import { silentLogger } from '../packages/orchestrator/src/observability/logging/logger.js';
import { type ComponentFileParser, parseComponentFile } from '../packages/orchestrator/src/sources/parser.js';
import {
  DirectorySourceReader,
  GitSourceReader,
  type SourceReader,
} from '../packages/orchestrator/src/sources/readers.js';
import { SourceSyncer } from '../packages/orchestrator/src/sources/syncer.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { createValidator } from '../packages/orchestrator/src/validation/validator.js';
import { componentYaml, TempRepo } from './git-helpers.js';

/** The 6 KB file that used to abort the process on its second parse. */
const HOSTILE = `a: ${'['.repeat(3000)}${']'.repeat(3000)}\n`;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** The real parser, counting the files it is given by path. */
class CountingParser implements ComponentFileParser {
  readonly parsed = new Map<string, number>();
  parse(input: Parameters<typeof parseComponentFile>[0]) {
    this.parsed.set(input.path, (this.parsed.get(input.path) ?? 0) + 1);
    return parseComponentFile(input);
  }
}

function syncerFor(reader: SourceReader) {
  const store = new MemoryStore();
  const feed = new LocalChangeFeed();
  cleanups.push(() => feed.close());
  const validator = createValidator({
    reader: store,
    engines: { listEngines: async () => [], getEngine: async () => null, healthEpoch: () => 0 },
    unhealthyEngine: 'error',
    cacheSize: 0,
  });
  const writer = new CatalogManager({ store, validator, feed, logger: silentLogger });
  const parser = new CountingParser();
  const syncer = new SourceSyncer({
    name: 'hostile',
    reader,
    paths: ['**/component.yaml'],
    writer,
    lifecycle: writer,
    maxOrphanRatio: 0.5,
    state: store,
    catalog: store,
    limits: { maxFiles: 20_000, maxBytes: 256 * 1024 * 1024 },
    events: store,
    feed,
    logger: silentLogger,
    parser,
  });
  return { syncer, parser, store };
}

describe('a hostile component file in a source', () => {
  it('git: the other files sync, the bad one gets yaml_too_complex, and later syncs do not parse it again', async () => {
    const repo = new TempRepo();
    cleanups.push(() => repo.cleanup());
    repo.write('good/component.yaml', componentYaml({ name: 'good-db' }));
    repo.write('bad/component.yaml', HOSTILE);
    repo.commit('hostile');
    const clones = mkdtempSync(join(tmpdir(), 'nestor-clone-'));
    cleanups.push(() => rmSync(clones, { recursive: true, force: true }));
    const git = new GitClient({ name: 'hostile', url: repo.url, branch: 'main', dir: clones, logger: silentLogger });
    const { syncer, parser, store } = syncerFor(new GitSourceReader({ git }));

    // Three syncs: before the bound the second parse of the file aborted the process.
    for (let i = 0; i < 3; i++) {
      const report = await syncer.sync();
      expect(report.complete).toBe(true);
      expect(report.errors).toEqual([
        expect.objectContaining({ path: 'bad/component.yaml', code: 'yaml_too_complex', line: 1, column: 68 }),
      ]);
      expect(report.counts.failed).toBe(1);
    }
    expect(await store.getComponent('good-db', '1.0.0')).toMatchObject({ name: 'good-db' });
    expect(parser.parsed.get('bad/component.yaml')).toBe(1);
    expect(parser.parsed.get('good/component.yaml')).toBe(1);

    // New content is parsed again: a fixed file syncs.
    repo.write('bad/component.yaml', componentYaml({ name: 'fixed-db' }));
    repo.commit('fix');
    const fixed = await syncer.sync();
    expect(fixed.errors).toEqual([]);
    expect(fixed.counts.created).toBe(1);
    expect(parser.parsed.get('bad/component.yaml')).toBe(2);
  });

  it('directory: the other files sync, the bad one gets yaml_too_complex, and later syncs do not parse it again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nestor-hostile-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    writeFileSync(join(root, 'component.yaml'), componentYaml({ name: 'dir-good' }));
    const bad = join(root, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'component.yaml'), HOSTILE);
    const { syncer, parser, store } = syncerFor(new DirectorySourceReader({ root, paths: ['**/component.yaml'] }));

    for (let i = 0; i < 3; i++) {
      const report = await syncer.sync();
      expect(report.errors).toEqual([
        expect.objectContaining({ path: 'bad/component.yaml', code: 'yaml_too_complex' }),
      ]);
    }
    expect(await store.getComponent('dir-good', '1.0.0')).toMatchObject({ name: 'dir-good' });
    expect(parser.parsed.get('bad/component.yaml')).toBe(1);
    // A folder has no history: its good files are parsed on every sync, as before.
    expect(parser.parsed.get('component.yaml')).toBe(3);

    // Other hostile content under the same path is parsed once more, then remembered too.
    writeFileSync(join(bad, 'component.yaml'), 'x: 1\n---\n'.repeat(10_000));
    for (let i = 0; i < 2; i++) {
      const report = await syncer.sync();
      expect(report.errors).toEqual([
        expect.objectContaining({ path: 'bad/component.yaml', code: 'yaml_too_complex', line: 200 }),
      ]);
    }
    expect(parser.parsed.get('bad/component.yaml')).toBe(2);
    expect((await store.listComponentNames()).sort()).toEqual(['dir-good']);
  });
});
