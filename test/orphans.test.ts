import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CatalogEvent, ComponentDefinition, SourceStatus } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../packages/orchestrator/src/main.js';
import { componentYaml, eventually, TempRepo } from './git-helpers.js';
import { AUTH, testApp } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type App = Awaited<ReturnType<typeof testApp>>['app'];

function repo(): TempRepo {
  const r = new TempRepo();
  cleanups.push(() => r.cleanup());
  return r;
}

const base = {
  path: null,
  branch: 'main',
  paths: ['**/component.yaml'],
  interval_ms: 0,
  webhook_secret_env: null,
  token_env: null,
  ssh_key_path: null,
};

async function appWith(source: Partial<Config['sources'][number]> & { type: 'git' | 'directory' }): Promise<App> {
  const { app, cleanup } = await testApp((c) => {
    c.sources = [{ ...base, name: 'platform', url: null, ...source }];
  });
  cleanups.push(cleanup);
  return app;
}

/** Ten components, one per folder: `c0/component.yaml` defines `orph-0@1.0.0`, and so on. */
function files(n: number): [string, string][] {
  return Array.from({ length: n }, (_, i) => [`c${i}/component.yaml`, componentYaml({ name: `orph-${i}` })]);
}

async function componentEvents(app: App, after: number): Promise<CatalogEvent[]> {
  return (await app.store.readEvents(after, 10_000)).filter((e) => e.type.startsWith('component.'));
}

async function orphanedNames(app: App): Promise<string[]> {
  const res = await app.server.inject({ method: 'GET', url: '/v1/components?orphaned=true&limit=500' });
  expect(res.statusCode).toBe(200);
  return res.json<{ items: ComponentDefinition[] }>().items.map((c) => c.name);
}

async function status(app: App): Promise<SourceStatus> {
  const res = await app.server.inject({ method: 'GET', url: '/v1/sources/platform' });
  expect(res.statusCode).toBe(200);
  return res.json<SourceStatus>();
}

describe('orphans of a git source', () => {
  it('blocks a sync that removes 80 % of the files, changes nothing until confirmed, then marks and unmarks', async () => {
    const r = repo();
    for (const [path, content] of files(10)) r.write(path, content);
    r.commit('ten');
    const app = await appWith({ type: 'git', url: r.url });
    expect((await app.sources.sync('platform')).counts).toMatchObject({ created: 10, versions: 10 });
    const synced = await app.store.headSequence();
    // A full sync writes file by file; each create carries its audit entry in the same write.
    const created = await app.store.listAudit({ limit: 50, action: 'component.create' });
    expect(created.items.map((e) => e.subject).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `orph-${i}@1.0.0`).sort(),
    );
    expect(created.items[0]).toMatchObject({ actor: 'source:platform', outcome: 'ok' });

    for (let i = 2; i < 10; i++) r.remove(`c${i}/component.yaml`);
    // The same commit also adds a component: a blocked sync writes no create either.
    r.write('new/component.yaml', componentYaml({ name: 'orph-new' }));
    const removal = r.commit('remove eight');
    const blocked = await app.sources.sync('platform');
    expect(blocked.blocked).toEqual({ orphans: 8, total: 10, ratio: 0.8 });
    expect(blocked.complete).toBe(false);
    expect(await componentEvents(app, synced)).toEqual([]);
    expect(await app.store.getComponent('orph-new', '1.0.0')).toBeNull();
    for (let i = 0; i < 10; i++) expect((await app.manager.getComponent(`orph-${i}`, '1.0.0')).orphaned).toBeNull();
    expect(await orphanedNames(app)).toEqual([]);
    const blockedStatus = await status(app);
    expect(blockedStatus).toMatchObject({ state: 'blocked', blocked: { orphans: 8, total: 10, ratio: 0.8 } });
    // The source keeps its last synced revision: the next sync weighs the same removals again.
    expect(blockedStatus.last_commit).not.toBe(removal);
    const announced = (await app.store.readEvents(synced, 100)).filter((e) => e.type === 'source.synced');
    expect(announced).toHaveLength(1);
    expect(announced[0]?.data).toMatchObject({ state: 'blocked', commit: removal, blocked: { orphans: 8 } });

    // A later poll finds the same block: still nothing written, not even a second announcement.
    const head = await app.store.headSequence();
    expect((await app.sources.sync('platform')).blocked).toEqual({ orphans: 8, total: 10, ratio: 0.8 });
    expect(await app.store.headSequence()).toBe(head);
    expect((await status(app)).state).toBe('blocked');

    // Confirmed: the one sync proceeds; versions stay published and readable, marked.
    const confirmed = await app.sources.sync('platform', { confirmRemovals: true });
    expect(confirmed).toMatchObject({ blocked: null, complete: true, orphaned: 8, unorphaned: 0 });
    expect(confirmed.counts).toMatchObject({ created: 1, files: 3 });
    const marks = (await componentEvents(app, head)).filter((e) => e.type === 'component.orphaned');
    expect(marks.map((e) => e.subject.name).sort()).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((i) => `orph-${i}`));
    const orphan = await app.manager.getComponent('orph-5', '1.0.0');
    expect(orphan.orphaned).toMatchObject({ source: 'platform' });
    expect(JSON.parse((await app.manager.getLatestComponentJson('orph-5')).json).version).toBe('1.0.0');
    expect((await app.manager.getComponent('orph-0', '1.0.0')).orphaned).toBeNull();
    expect(await orphanedNames(app)).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((i) => `orph-${i}`));
    expect(await status(app)).toMatchObject({ state: 'idle', blocked: null });
    const audit = await app.store.listAudit({ limit: 50, action: 'component.orphan' });
    expect(audit.items).toHaveLength(8);
    expect(audit.items[0]).toMatchObject({ actor: 'source:platform', outcome: 'ok' });
    expect(audit.items.map((e) => e.subject)).toContain('orph-5@1.0.0');

    // Confirmation is for one sync; nothing was removed since, so the next one is an ordinary sync.
    const afterConfirm = await app.store.headSequence();
    expect((await app.sources.sync('platform')).blocked).toBeNull();

    // The file comes back with the same content: the mark is lifted.
    r.write('c5/component.yaml', componentYaml({ name: 'orph-5' }));
    r.commit('bring five back');
    const back = await app.sources.sync('platform');
    expect(back).toMatchObject({ blocked: null, orphaned: 0, unorphaned: 1 });
    expect((await app.manager.getComponent('orph-5', '1.0.0')).orphaned).toBeNull();
    const lifted = (await componentEvents(app, afterConfirm)).filter((e) => e.type === 'component.updated');
    expect(lifted).toHaveLength(1);
    expect(lifted[0]?.data['changed']).toEqual(['orphaned']);
    expect(await orphanedNames(app)).not.toContain('orph-5');
    expect((await app.store.listAudit({ limit: 50, action: 'component.unorphan' })).items).toHaveLength(1);

    // Back with other content under the same version: a conflict, and the version stays orphaned.
    r.write('c6/component.yaml', componentYaml({ name: 'orph-6', description: 'changed' }));
    r.commit('six, edited');
    const clash = await app.sources.sync('platform');
    expect(clash.counts.conflicts).toBe(1);
    expect((await app.manager.getComponent('orph-6', '1.0.0')).orphaned).not.toBeNull();
  });

  it('marks a removal below the ratio at once, and unblocks when the removed files come back', async () => {
    const r = repo();
    for (const [path, content] of files(10)) r.write(path, content);
    r.commit('ten');
    const app = await appWith({ type: 'git', url: r.url });
    await app.sources.sync('platform');

    r.remove('c3/component.yaml');
    r.commit('remove one');
    expect(await app.sources.sync('platform')).toMatchObject({ blocked: null, orphaned: 1 });
    expect((await app.manager.getComponent('orph-3', '1.0.0')).orphaned).toMatchObject({ source: 'platform' });
    expect(await orphanedNames(app)).toEqual(['orph-3']);

    // Nine left; removing six of them is past one half: blocked.
    for (let i = 4; i < 10; i++) r.remove(`c${i}/component.yaml`);
    r.commit('remove six');
    expect((await app.sources.sync('platform')).blocked).toEqual({ orphans: 6, total: 9, ratio: 0.6667 });
    // The files come back (a revert): the source syncs normally again, nothing was orphaned.
    r.git('revert', '--no-edit', 'HEAD');
    const reverted = await app.sources.sync('platform');
    expect(reverted).toMatchObject({ blocked: null, complete: true, orphaned: 0 });
    expect(await status(app)).toMatchObject({ state: 'idle', blocked: null });
    expect(await orphanedNames(app)).toEqual(['orph-3']);
  });

  it('orphans the older versions of a removed file too, but not a version that moved to another file', async () => {
    const r = repo();
    r.write('a/component.yaml', componentYaml({ name: 'orph-a' }));
    r.write('b/component.yaml', componentYaml({ name: 'orph-b' }));
    r.write('c/component.yaml', componentYaml({ name: 'orph-c' }));
    r.commit('three');
    const app = await appWith({ type: 'git', url: r.url, max_orphan_ratio: 1 });
    await app.sources.sync('platform');
    r.write('a/component.yaml', componentYaml({ name: 'orph-a', version: '1.1.0' }));
    r.commit('bump a');
    // Editing a file in place orphans nothing: its older version is still the source's.
    expect(await app.sources.sync('platform')).toMatchObject({ orphaned: 0 });

    r.remove('a/component.yaml');
    r.move('b/component.yaml', 'moved/b/component.yaml');
    r.commit('remove a, move b');
    expect(await app.sources.sync('platform')).toMatchObject({ orphaned: 2 });
    expect((await app.manager.getComponent('orph-a', '1.0.0')).orphaned).not.toBeNull();
    expect((await app.manager.getComponent('orph-a', '1.1.0')).orphaned).not.toBeNull();
    expect((await app.manager.getComponent('orph-b', '1.0.0')).orphaned).toBeNull();
  });
});

describe('orphans of a directory source', () => {
  it('blocks, confirms, and lifts the mark when a file is put back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestor-orphans-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const put = (path: string, content: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    };
    for (const [path, content] of files(5)) put(path, content);
    const app = await appWith({ type: 'directory', path: dir });
    await app.sources.sync('platform');

    for (let i = 1; i < 5; i++) rmSync(join(dir, `c${i}`), { recursive: true });
    const head = await app.store.headSequence();
    expect((await app.sources.sync('platform')).blocked).toEqual({ orphans: 4, total: 5, ratio: 0.8 });
    expect(await componentEvents(app, head)).toEqual([]);

    expect(await app.sources.sync('platform', { confirmRemovals: true })).toMatchObject({ orphaned: 4 });
    expect(await orphanedNames(app)).toEqual(['orph-1', 'orph-2', 'orph-3', 'orph-4']);

    put('c2/component.yaml', files(5)[2]?.[1] as string);
    expect(await app.sources.sync('platform')).toMatchObject({ unorphaned: 1, orphaned: 0 });
    expect(await orphanedNames(app)).toEqual(['orph-1', 'orph-3', 'orph-4']);
  });
});

describe('POST /v1/sources/{name}/sync?confirm_removals=true', () => {
  it('is refused to a write token, and lets an admin unblock the source', async () => {
    const r = repo();
    for (const [path, content] of files(4)) r.write(path, content);
    r.commit('four');
    const app = await appWith({ type: 'git', url: r.url });
    await app.sources.sync('platform');
    for (let i = 0; i < 3; i++) r.remove(`c${i}/component.yaml`);
    r.commit('remove three');
    await app.sources.sync('platform');
    const listed = await app.server.inject({ method: 'GET', url: '/v1/sources' });
    const item = listed.json<{ items: SourceStatus[] }>().items[0];
    expect(item).toMatchObject({ state: 'blocked', blocked: { orphans: 3, total: 4, ratio: 0.75 } });

    const url = '/v1/sources/platform/sync?confirm_removals=true';
    const denied = await app.server.inject({ method: 'POST', url, headers: AUTH.write });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'forbidden' });
    expect((await status(app)).state).toBe('blocked');
    const bad = await app.server.inject({
      method: 'POST',
      url: '/v1/sources/platform/sync?confirm_removals=maybe',
      headers: AUTH.admin,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'invalid_request' });

    const accepted = await app.server.inject({ method: 'POST', url, headers: AUTH.admin });
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toMatchObject({ status: 'accepted', source: 'platform', confirm_removals: true });
    await eventually(async () => (await status(app)).state === 'idle');
    expect(await status(app)).toMatchObject({ state: 'idle', blocked: null });
    expect(await orphanedNames(app)).toEqual(['orph-0', 'orph-1', 'orph-2']);
  });
});
