import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestorError, type SourceStatus } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogManager } from '../packages/orchestrator/src/catalog/manager.js';
import { StaticEngineReader } from '../packages/orchestrator/src/engines/static-reader.js';
import { LocalChangeFeed } from '../packages/orchestrator/src/events/change-feed.js';
import type { Config } from '../packages/orchestrator/src/main.js';
import { silentLogger } from '../packages/orchestrator/src/observability/logging/logger.js';
import type { ComponentCreator } from '../packages/orchestrator/src/sources/syncer.js';
import { createSourceManager } from '../packages/orchestrator/src/sources/wiring.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { createValidator } from '../packages/orchestrator/src/validation/validator.js';
import { componentYaml, TempRepo } from './git-helpers.js';
import { AUTH, testApp } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function repo(branch = 'main'): TempRepo {
  const r = new TempRepo(branch);
  cleanups.push(() => r.cleanup());
  return r;
}

async function appWithSource(r: TempRepo, mutate?: (c: Config) => void) {
  const { app, cleanup } = await testApp((c) => {
    c.sources = [
      {
        name: 'platform',
        type: 'git',
        url: r.url,
        path: null,
        branch: 'main',
        paths: ['**/component.yaml', '**/*.component.yaml'],
        interval_ms: 0,
        webhook_secret_env: null,
        token_env: null,
        ssh_key_path: null,
      },
    ];
    mutate?.(c);
  });
  cleanups.push(cleanup);
  return app;
}

async function sourceEvents(app: Awaited<ReturnType<typeof appWithSource>>) {
  return (await app.store.readEvents(0, 10_000)).filter((e) => e.type === 'source.synced');
}

describe('git source sync', () => {
  it('syncs every matching file with git fields, then treats an unchanged repository as a no-op', async () => {
    const r = repo();
    r.write('aws/vpc/component.yaml', componentYaml({ name: 'aws-vpc', provider: 'aws', resource_type: 'vpc' }));
    r.write(
      'aws/rds/rds.component.yaml',
      componentYaml({ name: 'aws-rds', dependencies: [{ name: 'aws-vpc', version_range: '^1.0.0' }] }),
    );
    // Sorted before its dependency by name and by path: order must come from the dependency graph.
    r.write(
      'aaa/app.component.yaml',
      componentYaml({ name: 'aaa-app', dependencies: [{ name: 'aws-rds', version_range: '^1.0.0' }] }),
    );
    r.write('README.md', '# not a component\n').write('aws/notes.yaml', 'not: matched\n');
    const commit = r.commit('initial');
    const app = await appWithSource(r);

    const report = await app.sources.sync('platform');
    expect(report).toMatchObject({ commit, full: true, files: 3, complete: true });
    expect(report.counts).toEqual({ created: 3, unchanged: 0, failed: 0, conflicts: 0, files: 3, versions: 3 });
    expect(report.errors).toEqual([]);
    const rds = await app.manager.getComponent('aws-rds', '1.0.0');
    expect(rds).toMatchObject({ git_repository: r.url, git_commit: commit, git_path: 'aws/rds/rds.component.yaml' });
    const events = await sourceEvents(app);
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ source: 'platform', commit, counts: { created: 3 } });

    const again = await app.sources.sync('platform');
    expect(again).toMatchObject({ commit, files: 0, event_id: null });
    // Nothing changed, but the source still holds its three files and versions.
    expect(again.counts).toEqual({ created: 0, unchanged: 0, failed: 0, conflicts: 0, files: 3, versions: 3 });
    expect(await sourceEvents(app)).toHaveLength(1);

    const res = await app.server.inject({ method: 'GET', url: '/v1/sources/platform' });
    expect(res.statusCode).toBe(200);
    const status = res.json<SourceStatus>();
    expect(status).toMatchObject({ name: 'platform', type: 'git', url: r.url, branch: 'main', last_commit: commit });
    expect(status.counts).toMatchObject({ files: 3, versions: 3 });
    expect(status.state).toBe('idle');
    expect(typeof status.last_sync_at).toBe('string');
    const list = await app.server.inject({ method: 'GET', url: '/v1/sources' });
    expect(list.json<{ items: SourceStatus[] }>().items.map((s) => s.name)).toEqual(['platform']);
  });

  it('re-parses only changed files: additions, deletions and renames (delete + add)', async () => {
    const r = repo();
    for (let i = 0; i < 5; i++) r.write(`c${i}/component.yaml`, componentYaml({ name: `comp-${i}` }));
    r.commit('five');
    const app = await appWithSource(r);
    await app.sources.sync('platform');

    r.write('c0/component.yaml', componentYaml({ name: 'comp-0', version: '1.1.0', description: 'more' }));
    r.remove('c1/component.yaml');
    r.move('c2/component.yaml', 'moved/c2.component.yaml');
    const second = r.commit('edit, delete, rename');
    const report = await app.sources.sync('platform');
    expect(report).toMatchObject({ commit: second, full: false, files: 2 });
    expect(report.counts).toEqual({ created: 1, unchanged: 1, failed: 0, conflicts: 0, files: 4, versions: 4 });
    expect((await app.manager.getComponent('comp-0', '1.1.0')).git_commit).toBe(second);
    // A deleted file never deletes a published version.
    expect(await app.manager.getComponent('comp-1', '1.0.0')).toBeTruthy();
    expect(await sourceEvents(app)).toHaveLength(2);
  });

  it('falls back to a full resync after a force-push, and reports conflicts instead of writing them', async () => {
    const r = repo();
    r.write('a/component.yaml', componentYaml({ name: 'fp-a' }));
    r.commit('one');
    r.write('b/component.yaml', componentYaml({ name: 'fp-b' }));
    r.commit('two');
    const app = await appWithSource(r);
    await app.sources.sync('platform');

    r.git('reset', '--quiet', '--hard', 'HEAD~1');
    r.write('a/component.yaml', componentYaml({ name: 'fp-a', description: 'rewritten history' }));
    r.write('c/component.yaml', componentYaml({ name: 'fp-c' }));
    const rewritten = r.commit('rewritten');
    const report = await app.sources.sync('platform');
    expect(report).toMatchObject({ commit: rewritten, full: true, files: 2 });
    expect(report.counts).toEqual({ created: 1, unchanged: 0, failed: 0, conflicts: 1, files: 2, versions: 1 });
    expect(report.errors).toEqual([
      expect.objectContaining({ path: 'a/component.yaml', code: 'version_conflict', line: 1, column: 1 }),
    ]);
    expect((await app.manager.getComponent('fp-a', '1.0.0')).description).toBe('The fp-a component');
  });

  it('records each bad file as a per-file error and syncs the good ones', async () => {
    const r = repo();
    r.write('good/component.yaml', componentYaml({ name: 'good-one' }));
    r.write('yaml/component.yaml', 'name: broken\nversion: [1.0.0\n');
    r.write('typo/component.yaml', componentYaml({ name: 'typo-one', requred_inputs: [] }));
    r.write('rule/component.yaml', componentYaml({ name: 'rule-one', version: 'v1' }));
    r.write(
      'dep/component.yaml',
      componentYaml({ name: 'dep-one', dependencies: [{ name: 'nowhere', version_range: '^1' }] }),
    );
    r.write('bin/component.yaml', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]));
    r.write('huge/component.yaml', Buffer.alloc(50 * 1024 * 1024, 0x61));
    r.symlink('link/component.yaml', '/etc/passwd');
    r.commit('mixed');
    const app = await appWithSource(r);

    const report = await app.sources.sync('platform');
    expect(report.complete).toBe(true);
    expect(report.counts).toMatchObject({ created: 1, failed: 7 });
    const byPath = Object.fromEntries(report.errors.map((e) => [e.path, e]));
    expect(byPath['yaml/component.yaml']).toMatchObject({ code: 'invalid_yaml' });
    expect(byPath['yaml/component.yaml']?.line).toBeGreaterThanOrEqual(2);
    expect(byPath['typo/component.yaml']).toMatchObject({ code: 'invalid_request' });
    expect(byPath['typo/component.yaml']?.message).toContain('requred_inputs');
    expect(byPath['typo/component.yaml']?.line).toBeGreaterThan(1);
    expect(byPath['rule/component.yaml']).toMatchObject({ code: 'validation_failed' });
    expect(byPath['dep/component.yaml']?.message).toContain('nowhere');
    expect(byPath['bin/component.yaml']).toMatchObject({ code: 'binary_file' });
    expect(byPath['huge/component.yaml']).toMatchObject({ code: 'file_too_large' });
    expect(byPath['link/component.yaml']).toMatchObject({ code: 'symlink_not_allowed' });
    expect(await app.manager.getComponent('good-one', '1.0.0')).toBeTruthy();

    const status = (await app.server.inject({ method: 'GET', url: '/v1/sources/platform' })).json<SourceStatus>();
    expect(status.errors).toHaveLength(report.errors.length);
    expect(status.counts.failed).toBe(7);

    // Fixing one file clears its error; the others keep theirs.
    r.write('yaml/component.yaml', componentYaml({ name: 'yaml-one' }));
    r.commit('fix yaml');
    const next = await app.sources.sync('platform');
    expect(next.errors.map((e) => e.path)).not.toContain('yaml/component.yaml');
    expect(next.errors.map((e) => e.path)).toContain('huge/component.yaml');
    expect(next.counts.created).toBe(1);
  });

  it('rejects a tree entry whose path contains ".."', async () => {
    const r = repo();
    r.write('ok/component.yaml', componentYaml({ name: 'dots-ok' }));
    r.commit('ok');
    // git itself refuses such paths in the index, so craft the tree by hand as an attacker would.
    const blob = r.git('hash-object', '-w', join(r.dir, 'ok/component.yaml'));
    const inner = spawnGit(r, ['mktree'], `100644 blob ${blob}\tcomponent.yaml\n`);
    const tree = spawnGit(r, ['mktree'], `040000 tree ${inner}\t..\n040000 tree ${inner}\tok\n`);
    const commit = r.git('commit-tree', tree, '-m', 'evil');
    r.git('update-ref', 'refs/heads/main', commit);
    const app = await appWithSource(r);
    const report = await app.sources.sync('platform');
    expect(report.errors).toEqual([expect.objectContaining({ path: '../component.yaml', code: 'path_not_allowed' })]);
    expect(report.counts.created).toBe(1);
  });

  it('fails the whole source clearly for an unreachable remote or a missing branch, without leaking credentials', async () => {
    const r = repo();
    r.write('a/component.yaml', componentYaml({ name: 'unreach' }));
    r.commit('one');
    const app = await appWithSource(r, (c) => {
      c.sources.push(
        { ...(c.sources[0] as Config['sources'][number]), name: 'wrong-branch', branch: 'release' },
        {
          ...(c.sources[0] as Config['sources'][number]),
          name: 'down',
          url: 'https://deploy:s3cr3t-token@127.0.0.1:9/platform.git',
        },
      );
    });
    const wrong = await app.sources.sync('wrong-branch').catch((e: unknown) => e);
    expect(NestorError.hasCode(wrong, 'git_failure')).toBe(true);
    expect((wrong as Error).message).toContain('branch "release" does not exist');

    const down = await app.sources.sync('down').catch((e: unknown) => e);
    expect(NestorError.hasCode(down, 'git_failure')).toBe(true);
    expect((down as Error).message).not.toContain('s3cr3t');
    const status = (await app.server.inject({ method: 'GET', url: '/v1/sources/down' })).json<SourceStatus>();
    expect(status.state).toBe('failed');
    expect(status.url).toBe('https://127.0.0.1:9/platform.git');
    expect(status.last_error?.code).toBe('git_failure');
    expect(JSON.stringify(status)).not.toContain('s3cr3t');

    // The server keeps serving, and the healthy source still syncs.
    expect((await app.sources.sync('platform')).counts.created).toBe(1);
    expect((await app.server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('runs one sync at a time per source and coalesces requests made meanwhile into one more', async () => {
    const r = repo();
    for (let i = 0; i < 20; i++) r.write(`c${i}/component.yaml`, componentYaml({ name: `co-${i}` }));
    r.commit('twenty');
    const app = await appWithSource(r);
    const first = app.sources.sync('platform');
    const queued = [app.sources.sync('platform'), app.sources.sync('platform'), app.sources.sync('platform')];
    expect(queued[0]).toBe(queued[1]);
    const reports = await Promise.all([first, ...queued]);
    expect(reports[0]?.counts.created).toBe(20);
    expect(reports[1]?.files).toBe(0);
    expect(await sourceEvents(app)).toHaveLength(1);

    const res = await app.server.inject({ method: 'POST', url: '/v1/sources/platform/sync', headers: AUTH.admin });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'accepted', source: 'platform' });
    expect(
      (await app.server.inject({ method: 'POST', url: '/v1/sources/platform/sync', headers: AUTH.write })).statusCode,
    ).toBe(403);
    expect((await app.server.inject({ method: 'POST', url: '/v1/sources/platform/sync' })).statusCode).toBe(401);
    const missing = await app.server.inject({ method: 'POST', url: '/v1/sources/nope/sync', headers: AUTH.admin });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'source_not_found' });
    expect((await app.server.inject({ method: 'GET', url: '/v1/sources/nope' })).json()).toMatchObject({
      code: 'source_not_found',
    });
  });
});

describe('interrupted sync', () => {
  it('leaves every component whole and the next sync completes the commit', async () => {
    const r = repo();
    for (let i = 0; i < 30; i++)
      r.write(`c${i}/component.yaml`, componentYaml({ name: `int-${String(i).padStart(2, '0')}` }));
    const commit = r.commit('thirty');
    const store = new MemoryStore();
    const feed = new LocalChangeFeed();
    const validator = createValidator({
      reader: store,
      engines: new StaticEngineReader([]),
      unhealthyEngine: 'error',
      cacheSize: 100,
    });
    const manager = new CatalogManager({ store, validator, feed, logger: silentLogger });
    const dataDir = mkdtempSync(join(tmpdir(), 'nestor-int-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const source = {
      name: 'platform',
      type: 'git' as const,
      url: r.url,
      path: null,
      branch: 'main',
      paths: ['**/component.yaml'],
      interval_ms: 0,
      webhook_secret_env: null,
      token_env: null,
      ssh_key_path: null,
      token: null,
      webhookSecret: null,
    };

    // The "process" dies after 12 writes: the writer stops answering mid-batch.
    let writes = 0;
    const dying: ComponentCreator = {
      async createComponent(spec) {
        writes += 1;
        if (writes > 12) throw new Error('process killed');
        return manager.createComponent(spec);
      },
      // A first sync is full: written file by file, never as one changeset.
      createChangeset: (specs, opts) => manager.createChangeset(specs, opts),
    };
    const crashed = createSourceManager({
      sources: [source],
      dataDir,
      writer: dying,
      lifecycle: manager,
      store,
      feed,
      logger: silentLogger,
    });
    const partial = await crashed.sync('platform');
    expect(partial.complete).toBe(false);
    expect(await store.getState('source:platform')).toBeNull();
    expect((await crashed.status('platform')).state).toBe('failed');
    const written = (await store.listComponents({ limit: 500 })).items;
    expect(written).toHaveLength(12);
    for (const c of written) expect(c.git_commit).toBe(commit);
    expect((await store.readEvents(0, 1000)).filter((e) => e.type === 'source.synced')).toHaveLength(0);

    // A new "process" over the same store and clone finishes the job.
    const restarted = createSourceManager({
      sources: [source],
      dataDir,
      writer: manager,
      lifecycle: manager,
      store,
      feed,
      logger: silentLogger,
    });
    const done = await restarted.sync('platform');
    expect(done.complete).toBe(true);
    expect(done.counts).toEqual({ created: 18, unchanged: 12, failed: 0, conflicts: 0, files: 30, versions: 30 });
    expect((await store.listComponents({ limit: 500 })).items).toHaveLength(30);
    expect(await store.getState('source:platform')).toMatchObject({ commit });
  });

  it('records the source status in the same write as its source.synced event', async () => {
    const r = repo();
    r.write('a/component.yaml', componentYaml({ name: 'atomic-sync' }));
    const commit = r.commit('one');
    // A separate status write after the event is lost, as a crash between the two would lose it.
    // Only the status key: the source's file map (`source-files:`) is kept apart, written first.
    class StatusWritesFail extends MemoryStore {
      override async putState(key: string, value: unknown): Promise<void> {
        if (key.startsWith('source:')) throw new Error('process killed');
        return super.putState(key, value);
      }
    }
    const store = new StatusWritesFail();
    const feed = new LocalChangeFeed();
    const validator = createValidator({
      reader: store,
      engines: new StaticEngineReader([]),
      unhealthyEngine: 'error',
      cacheSize: 100,
    });
    const manager = new CatalogManager({ store, validator, feed, logger: silentLogger });
    const dataDir = mkdtempSync(join(tmpdir(), 'nestor-atomic-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const source = {
      name: 'platform',
      type: 'git' as const,
      url: r.url,
      path: null,
      branch: 'main',
      paths: ['**/component.yaml'],
      interval_ms: 0,
      webhook_secret_env: null,
      token_env: null,
      ssh_key_path: null,
      token: null,
      webhookSecret: null,
    };
    const sources = createSourceManager({
      sources: [source],
      dataDir,
      writer: manager,
      lifecycle: manager,
      store,
      feed,
      logger: silentLogger,
    });
    await sources.sync('platform').catch(() => undefined);
    const synced = (await store.readEvents(0, 100)).filter((e) => e.type === 'source.synced');
    const status = await store.getState('source:platform');
    // Both or neither: an event whose status is missing would make the next sync redo the commit.
    expect(synced).toHaveLength(1);
    expect(synced[0]?.data).toMatchObject({ commit });
    expect(status).toMatchObject({ commit });
  });

  it('stops between writes on shutdown without recording the revision', async () => {
    const r = repo();
    for (let i = 0; i < 10; i++) r.write(`c${i}/component.yaml`, componentYaml({ name: `stop-${i}` }));
    r.commit('ten');
    const store = new MemoryStore();
    const feed = new LocalChangeFeed();
    const validator = createValidator({
      reader: store,
      engines: new StaticEngineReader([]),
      unhealthyEngine: 'error',
      cacheSize: 100,
    });
    const manager = new CatalogManager({ store, validator, feed, logger: silentLogger });
    const dataDir = mkdtempSync(join(tmpdir(), 'nestor-stop-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    let writes = 0;
    let stopping: Promise<void> | null = null;
    const writer: ComponentCreator = {
      async createComponent(spec) {
        writes += 1;
        if (writes === 4) stopping = sources.stop();
        return manager.createComponent(spec);
      },
      createChangeset: (specs, opts) => manager.createChangeset(specs, opts),
    };
    const sources = createSourceManager({
      sources: [
        {
          name: 'platform',
          type: 'git',
          url: r.url,
          path: null,
          branch: 'main',
          paths: ['**/component.yaml'],
          interval_ms: 0,
          webhook_secret_env: null,
          token_env: null,
          ssh_key_path: null,
          token: null,
          webhookSecret: null,
        },
      ],
      dataDir,
      writer,
      lifecycle: manager,
      store,
      leases: store,
      feed,
      logger: silentLogger,
    });
    const report = await sources.sync('platform');
    await stopping;
    expect(report.complete).toBe(false);
    expect(writes).toBe(4);
    expect((await store.listComponents({ limit: 50 })).items).toHaveLength(4);
    expect(await store.getState('source:platform')).toBeNull();
    expect((await sources.status('platform')).last_error?.code).toBe('service_unavailable');
    // The lease was released, so another process can take over at once.
    expect(await store.acquireLease('source-sync:platform', 'other', 1000)).toBe(true);
  });
});

function spawnGit(r: TempRepo, args: string[], input: string): string {
  return execFileSync('git', args, { cwd: r.dir, input, encoding: 'utf8' }).trim();
}
