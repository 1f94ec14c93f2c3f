import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestorError, type SourceStatus } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogManager } from '../packages/orchestrator/src/catalog/manager.js';
import { StaticEngineReader } from '../packages/orchestrator/src/engines/static-reader.js';
import { LocalChangeFeed } from '../packages/orchestrator/src/events/change-feed.js';
import type { Config } from '../packages/orchestrator/src/main.js';
import { defaultConfig } from '../packages/orchestrator/src/main.js';
import { silentLogger } from '../packages/orchestrator/src/observability/logging/logger.js';
import { sourceManagerFromConfig } from '../packages/orchestrator/src/sources/wiring.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { createValidator } from '../packages/orchestrator/src/validation/validator.js';
import { componentYaml, TempRepo } from './git-helpers.js';
import { testApp } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function repo(): TempRepo {
  const r = new TempRepo();
  cleanups.push(() => r.cleanup());
  return r;
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type SourceConfig = Config['sources'][number];

function gitSource(url: string, extra: Partial<SourceConfig> = {}): SourceConfig {
  return {
    name: 'platform',
    type: 'git',
    url,
    path: null,
    branch: 'main',
    paths: ['**/component.yaml'],
    interval_ms: 0,
    webhook_secret_env: null,
    token_env: null,
    ssh_key_path: null,
    ...extra,
  };
}

async function appWith(sources: SourceConfig[]) {
  const { app, cleanup } = await testApp((c) => {
    c.sources = sources;
  });
  cleanups.push(cleanup);
  return app;
}

type App = Awaited<ReturnType<typeof appWith>>;

async function status(app: App, name = 'platform'): Promise<SourceStatus> {
  return (await app.server.inject({ method: 'GET', url: `/v1/sources/${name}` })).json<SourceStatus>();
}

async function syncedEvents(app: App) {
  return (await app.store.readEvents(0, 10_000)).filter((e) => e.type === 'source.synced');
}

async function storedNames(app: App): Promise<string[]> {
  return (await app.store.listComponents({ limit: 500 })).items.map((c) => c.name).sort();
}

describe('git sync limits', () => {
  it('fails a sync over max_files with payload_too_large, visible in the status, writing nothing', async () => {
    const r = repo();
    for (let i = 0; i < 3; i++) r.write(`c${i}/component.yaml`, componentYaml({ name: `lim-${i}` }));
    const first = r.commit('three');
    const app = await appWith([gitSource(r.url, { max_files: 4 })]);
    expect((await app.sources.sync('platform')).counts).toMatchObject({ created: 3, files: 3 });

    // Three more files: the source now holds six, over the limit, although only three changed.
    for (let i = 3; i < 6; i++) r.write(`c${i}/component.yaml`, componentYaml({ name: `lim-${i}` }));
    r.commit('six');
    const err = await app.sources.sync('platform').catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'payload_too_large')).toBe(true);
    expect((err as NestorError).message).toContain('6 matching files, more than the limit of 4');
    expect((err as NestorError).message).toContain('max_files');

    const s = await status(app);
    expect(s.state).toBe('failed');
    expect(s.last_error?.code).toBe('payload_too_large');
    expect(s.last_commit).toBe(first);
    expect(s.counts).toMatchObject({ files: 3, versions: 3 });
    expect(await storedNames(app)).toEqual(['lim-0', 'lim-1', 'lim-2']);
    expect(await syncedEvents(app)).toHaveLength(1);
  });

  it('fails a first sync over max_bytes before reading anything', async () => {
    const r = repo();
    for (let i = 0; i < 4; i++) {
      r.write(`c${i}/component.yaml`, `${componentYaml({ name: `big-${i}` })}# ${'x'.repeat(1500)}\n`);
    }
    r.commit('four big');
    const app = await appWith([gitSource(r.url, { max_bytes: 4096 })]);
    const err = await app.sources.sync('platform').catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'payload_too_large')).toBe(true);
    expect((err as NestorError).message).toMatch(/\d+ bytes of matching files, more than the limit of 4096/);
    expect(await storedNames(app)).toEqual([]);
    expect(await syncedEvents(app)).toHaveLength(0);
    expect(await app.store.getState('source:platform')).toBeNull();
    const s = await status(app);
    expect(s).toMatchObject({ state: 'failed', last_commit: null, last_error: { code: 'payload_too_large' } });
  });

  it('keeps max_bytes across incremental syncs: a file that grows pushes the source over', async () => {
    const r = repo();
    for (let i = 0; i < 3; i++) r.write(`c${i}/component.yaml`, componentYaml({ name: `grow-${i}` }));
    const first = r.commit('small');
    const app = await appWith([gitSource(r.url, { max_bytes: 4096 })]);
    await app.sources.sync('platform');

    r.write('c1/component.yaml', `${componentYaml({ name: 'grow-1' })}# ${'x'.repeat(3800)}\n`);
    r.commit('one file grows');
    const err = await app.sources.sync('platform').catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'payload_too_large')).toBe(true);
    expect((await status(app)).last_commit).toBe(first);

    // Shrinking it again brings the source back under the limit.
    r.write('c1/component.yaml', componentYaml({ name: 'grow-1', version: '1.0.1' }));
    r.commit('shrunk');
    const report = await app.sources.sync('platform');
    expect(report).toMatchObject({ full: false, complete: true });
    expect(report.counts).toMatchObject({ created: 1, files: 3, versions: 3 });
  });

  it('applies the same limits to directory sources', async () => {
    const dir = tempDir('nestor-dir-limits-');
    for (let i = 0; i < 5; i++) {
      mkdirSync(join(dir, `c${i}`));
      writeFileSync(join(dir, `c${i}/component.yaml`), componentYaml({ name: `dl-${i}` }));
    }
    writeFileSync(join(dir, 'README.md'), 'not matched, not counted\n');
    const directory = (name: string, extra: Partial<SourceConfig>): SourceConfig => ({
      ...gitSource('', extra),
      name,
      type: 'directory',
      url: null,
      path: dir,
    });
    const app = await appWith([
      directory('few-files', { max_files: 4 }),
      directory('few-bytes', { max_bytes: 1024 }),
      directory('roomy', { max_files: 5 }),
    ]);
    for (const name of ['few-files', 'few-bytes']) {
      const err = await app.sources.sync(name).catch((e: unknown) => e);
      expect(NestorError.hasCode(err, 'payload_too_large')).toBe(true);
      expect((await status(app, name)).last_error?.code).toBe('payload_too_large');
    }
    expect(await storedNames(app)).toEqual([]);
    expect(await syncedEvents(app)).toHaveLength(0);
    expect((await app.sources.sync('roomy')).counts).toMatchObject({ created: 5, files: 5, versions: 5 });
  });
});

describe('source counts', () => {
  it('keeps files and versions right through incremental syncs, equal to a full sync of the same commit', async () => {
    const r = repo();
    r.write('a/component.yaml', componentYaml({ name: 'cnt-a' }));
    r.write(
      'b/component.yaml',
      `${componentYaml({ name: 'cnt-b' })}---\n${componentYaml({ name: 'cnt-b', version: '1.1.0' })}`,
    );
    r.write('c/component.yaml', 'not: [valid\n');
    r.commit('one');
    // Removing b orphans two of three versions: past the default breaker, which is not tested here.
    const app = await appWith([gitSource(r.url, { max_orphan_ratio: 1 }), gitSource(r.url, { name: 'mirror' })]);
    expect((await app.sources.sync('platform')).counts).toMatchObject({ files: 3, versions: 3, failed: 1 });

    r.write('c/component.yaml', componentYaml({ name: 'cnt-c' }));
    r.write('a/component.yaml', componentYaml({ name: 'cnt-a', version: '2.0.0' }));
    r.remove('b/component.yaml');
    r.write('d/component.yaml', componentYaml({ name: 'cnt-d' }));
    r.commit('two');
    const second = await app.sources.sync('platform');
    expect(second).toMatchObject({ full: false, blocked: null, orphaned: 2 });
    // a@2.0.0, c and d: the versions the files define now (deleted files' versions stay published).
    expect(second.counts).toMatchObject({ files: 3, versions: 3 });
    const again = await app.sources.sync('platform');
    expect(again).toMatchObject({ files: 0, event_id: null });
    expect(again.counts).toMatchObject({ created: 0, files: 3, versions: 3 });
    expect((await status(app)).counts).toMatchObject({ files: 3, versions: 3 });

    // A second source reading the same repository from scratch counts the same.
    const fresh = await app.sources.sync('mirror');
    expect(fresh.full).toBe(true);
    expect(fresh.counts).toMatchObject({ created: 0, files: 3, versions: 3 });
  });

  it('counts a state recorded before files and versions existed by syncing in full once', async () => {
    const r = repo();
    r.write('a/component.yaml', componentYaml({ name: 'old-a' }));
    const commit = r.commit('one');
    const app = await appWith([gitSource(r.url)]);
    await app.sources.sync('platform');
    const recorded = (await app.store.getState('source:platform')) as { counts: Record<string, number> };
    const { files: _f, versions: _v, ...oldCounts } = recorded.counts;
    await app.store.putState('source:platform', { ...recorded, counts: oldCounts });

    const report = await app.sources.sync('platform');
    expect(report).toMatchObject({ commit, full: true, event_id: null });
    expect(report.counts).toMatchObject({ unchanged: 1, files: 1, versions: 1 });
  });
});

describe('git credentials', () => {
  /** node's spawn, recording the argv and environment of every git child. */
  function recordingSpawn() {
    const calls: { args: string[]; env: NodeJS.ProcessEnv }[] = [];
    const fn = (command: string, args: string[], options: SpawnOptions): ChildProcess => {
      calls.push({ args: [command, ...args], env: { ...options.env } });
      return spawn(command, args, options);
    };
    return { fn, calls };
  }

  function manager(env: Record<string, string>, sources: SourceConfig[], spawnFn: ReturnType<typeof recordingSpawn>) {
    const store = new MemoryStore();
    const feed = new LocalChangeFeed();
    const validator = createValidator({
      reader: store,
      engines: new StaticEngineReader([]),
      unhealthyEngine: 'error',
      cacheSize: 100,
    });
    const writer = new CatalogManager({ store, validator, feed, logger: silentLogger });
    const config = defaultConfig();
    config.data_dir = tempDir('nestor-cred-');
    config.examples.enabled = false;
    config.sources = sources;
    return sourceManagerFromConfig(config, {
      writer,
      lifecycle: writer,
      store,
      feed,
      logger: silentLogger,
      env,
      spawn: spawnFn.fn,
    });
  }

  it('syncs a file:// source with token_env, the token in the environment and never in argv', async () => {
    const r = repo();
    r.write('a/component.yaml', componentYaml({ name: 'cred-a' }));
    r.commit('one');
    const token = 'ghp_tokenThatMustNotLeak123';
    const spawned = recordingSpawn();
    const sources = manager({ PLATFORM_TOKEN: token }, [gitSource(r.url, { token_env: 'PLATFORM_TOKEN' })], spawned);
    const report = await sources.sync('platform');
    expect(report.counts).toMatchObject({ created: 1, files: 1, versions: 1 });

    expect(spawned.calls.length).toBeGreaterThan(2);
    expect(spawned.calls.some((c) => c.args.includes('fetch') && c.args.includes(r.url))).toBe(true);
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    for (const call of spawned.calls) {
      expect(call.args.join(' ')).not.toContain(token);
      expect(call.args.join(' ')).not.toContain(basic);
      expect(call.env.GIT_CONFIG_KEY_0).toBe('http.extraHeader');
      expect(call.env.GIT_CONFIG_VALUE_0).toBe(`Authorization: Basic ${basic}`);
    }
  });

  it('moves a password written into a URL out of argv even when the URL did not come through config', async () => {
    const spawned = recordingSpawn();
    const sources = manager({}, [gitSource('https://deploy:s3cr3t-pass@127.0.0.1:9/platform.git')], spawned);
    const err = await sources.sync('platform').catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'git_failure')).toBe(true);
    const fetch = spawned.calls.find((c) => c.args.includes('fetch'));
    expect(fetch?.args).toContain('https://127.0.0.1:9/platform.git');
    for (const call of spawned.calls) expect(call.args.join(' ')).not.toContain('s3cr3t');
    expect(fetch?.env.GIT_CONFIG_VALUE_0).toBe(
      `Authorization: Basic ${Buffer.from('deploy:s3cr3t-pass').toString('base64')}`,
    );
    expect((err as Error).message).not.toContain('s3cr3t');
  });
});
