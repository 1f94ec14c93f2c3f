import type { CatalogEvent, SourceStatus } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { componentYaml, TempRepo } from './git-helpers.js';
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

async function appFor(r: TempRepo): Promise<App> {
  const { app, cleanup } = await testApp((c) => {
    c.sources = [
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
      },
    ];
  });
  cleanups.push(cleanup);
  return app;
}

async function createdSince(app: App, after: number): Promise<CatalogEvent[]> {
  return (await app.store.readEvents(after, 10_000)).filter((e) => e.type === 'component.created');
}

async function status(app: App): Promise<SourceStatus> {
  const res = await app.server.inject({ method: 'GET', url: '/v1/sources/platform' });
  expect(res.statusCode).toBe(200);
  return res.json<SourceStatus>();
}

const vpc = (version: string) => componentYaml({ name: 'cs-vpc', version });
const network = (version: string, range: string) =>
  componentYaml({ name: 'cs-network', version, dependencies: [{ name: 'cs-vpc', version_range: range }] });

describe('a git sync publishes each commit as one changeset', () => {
  it('lands a dependency bump and its dependent together: one changeset, consecutive events', async () => {
    const r = repo();
    r.write('vpc/component.yaml', vpc('1.0.0')).write('network/component.yaml', network('1.0.0', '^1.0.0'));
    r.commit('first');
    const app = await appFor(r);
    const first = await app.sources.sync('platform');
    // The first import is not one commit's change: file by file, as before.
    expect(first).toMatchObject({ full: true, changeset: null, counts: { created: 2 } });
    const before = await app.store.headSequence();

    r.write('vpc/component.yaml', vpc('2.0.0')).write('network/component.yaml', network('2.0.0', '^2.0.0'));
    const bump = r.commit('move to vpc 2');
    const report = await app.sources.sync('platform');
    expect(report).toMatchObject({ full: false, complete: true, errors: [], counts: { created: 2, failed: 0 } });
    expect(report.changeset).toMatchObject({ members: 2, outcome: 'written' });
    const id = report.changeset?.id;
    expect(id).toEqual(expect.any(String));

    const events = await createdSince(app, before);
    expect(events.map((e) => `${e.subject.name}@${e.subject.version}`).sort()).toEqual([
      'cs-network@2.0.0',
      'cs-vpc@2.0.0',
    ]);
    expect(events.map((e) => e.data.changeset)).toEqual([id, id]);
    expect((events[1]?.id ?? 0) - (events[0]?.id ?? 0)).toBe(1);

    const res = await app.server.inject({ method: 'GET', url: `/v1/changesets/${id}`, headers: AUTH.read });
    expect(res.statusCode).toBe(200);
    const record = res.json<{ actor: string; message: string; items: { name: string; status: string }[] }>();
    expect(record.actor).toBe('source:platform');
    expect(record.message).toBe(`sync platform ${bump.slice(0, 12)}`);
    expect(record.items.map((i) => [i.name, i.status]).sort()).toEqual([
      ['cs-network', 'created'],
      ['cs-vpc', 'created'],
    ]);
    const stored = await app.manager.getComponent('cs-network', '2.0.0');
    expect(stored).toMatchObject({
      published_by: 'source:platform',
      git_commit: bump,
      git_path: 'network/component.yaml',
    });
    expect((await status(app)).state).toBe('idle');
  });

  it('publishes a dependent whose new dependency sorts after it in the same commit', async () => {
    const r = repo();
    r.write('seed/component.yaml', componentYaml({ name: 'cs-seed' }));
    r.commit('seed');
    const app = await appFor(r);
    await app.sources.sync('platform');
    // `a-app` is read, listed and submitted before `z-dep`, which it depends on.
    r.write(
      'a-app/component.yaml',
      componentYaml({ name: 'cs-app', dependencies: [{ name: 'cs-zdep', version_range: '^3.0.0' }] }),
    );
    r.write('z-dep/component.yaml', componentYaml({ name: 'cs-zdep', version: '3.0.0' }));
    r.commit('app and its dependency');
    const before = await app.store.headSequence();
    const report = await app.sources.sync('platform');
    expect(report).toMatchObject({ errors: [], counts: { created: 2, failed: 0 }, changeset: { outcome: 'written' } });
    const events = await createdSince(app, before);
    expect(events.map((e) => e.data.changeset)).toEqual([report.changeset?.id, report.changeset?.id]);
  });

  it('writes nothing of a commit with an invalid file, reports it, and retries the files together', async () => {
    const r = repo();
    r.write('vpc/component.yaml', vpc('1.0.0')).write('network/component.yaml', network('1.0.0', '^1.0.0'));
    r.write('other/component.yaml', componentYaml({ name: 'cs-other' }));
    r.commit('first');
    const app = await appFor(r);
    await app.sources.sync('platform');
    const before = await app.store.headSequence();

    r.write('vpc/component.yaml', vpc('2.0.0'));
    // Invalid: it depends on a component nobody publishes.
    r.write(
      'network/component.yaml',
      componentYaml({
        name: 'cs-network',
        version: '2.0.0',
        dependencies: [{ name: 'cs-nowhere', version_range: '^1.0.0' }],
      }),
    );
    // Touched without a new version: stays unchanged, reported by nobody.
    r.write('other/component.yaml', `# owned by the platform team\n${componentYaml({ name: 'cs-other' })}`);
    r.commit('half bad');
    const report = await app.sources.sync('platform');
    expect(report.complete).toBe(true);
    expect(report.changeset).toEqual({ id: null, members: 2, outcome: 'refused' });
    expect(report.counts).toMatchObject({ created: 0, unchanged: 1, failed: 2, conflicts: 0 });
    expect(await createdSince(app, before)).toEqual([]);
    expect(await app.store.getComponent('cs-vpc', '2.0.0')).toBeNull();

    const own = report.errors.filter((e) => e.code === 'validation_failed');
    expect(own.length).toBeGreaterThan(0);
    for (const e of own) {
      expect(e.path).toBe('network/component.yaml');
      expect(e.line).toEqual(expect.any(Number));
      expect(e.message).toContain('cs-nowhere');
    }
    const refused = report.errors.filter((e) => e.code === 'changeset_refused').map((e) => e.path);
    expect(refused.sort()).toEqual(['network/component.yaml', 'vpc/component.yaml']);
    expect(report.errors.some((e) => e.path === 'other/component.yaml')).toBe(false);

    const refusedStatus = await status(app);
    expect(refusedStatus.state).toBe('failed');
    expect(refusedStatus.last_error?.code).toBe('validation_failed');
    expect(refusedStatus.counts).toMatchObject({ failed: 2 });
    expect(refusedStatus.errors.map((e) => e.path)).toContain('vpc/component.yaml');

    // The next poll retries the failed files: the valid one is not published on its own.
    const again = await app.sources.sync('platform');
    expect(again.changeset?.outcome).toBe('refused');
    expect(await createdSince(app, before)).toEqual([]);

    // Fixing the bad file publishes both as one changeset.
    r.write('network/component.yaml', network('2.0.0', '^2.0.0'));
    r.commit('fix');
    const fixed = await app.sources.sync('platform');
    expect(fixed).toMatchObject({ errors: [], counts: { created: 2, failed: 0 }, changeset: { outcome: 'written' } });
    const events = await createdSince(app, before);
    expect(events.map((e) => e.subject.name).sort()).toEqual(['cs-network', 'cs-vpc']);
    expect(new Set(events.map((e) => e.data.changeset)).size).toBe(1);
    expect((await status(app)).state).toBe('idle');
  });

  it('refuses the set when a file of the commit does not parse', async () => {
    const r = repo();
    r.write('seed/component.yaml', componentYaml({ name: 'cs-seed' }));
    r.commit('seed');
    const app = await appFor(r);
    await app.sources.sync('platform');
    const before = await app.store.headSequence();
    r.write('good/component.yaml', componentYaml({ name: 'cs-good' }));
    r.write('bad/component.yaml', 'name: [unclosed\n');
    r.commit('one good, one broken');
    const report = await app.sources.sync('platform');
    expect(report.changeset?.outcome).toBe('refused');
    expect(await createdSince(app, before)).toEqual([]);
    expect(
      report.errors
        .filter((e) => e.path === 'bad/component.yaml')
        .map((e) => e.code)
        .sort(),
    ).toEqual(['changeset_refused', 'invalid_yaml']);
    expect(report.errors.filter((e) => e.path === 'good/component.yaml').map((e) => e.code)).toEqual([
      'changeset_refused',
    ]);
  });

  it('writes a commit of more than 1 000 new components file by file, and says so', async () => {
    const r = repo();
    r.write('seed/component.yaml', componentYaml({ name: 'cs-seed' }));
    r.commit('seed');
    const app = await appFor(r);
    await app.sources.sync('platform');
    for (let i = 0; i < 1001; i++) r.write(`m${i}/component.yaml`, componentYaml({ name: `cs-many-${i}` }));
    r.commit('a thousand and one');
    const report = await app.sources.sync('platform');
    expect(report.changeset).toEqual({ id: null, members: 1001, outcome: 'per_file' });
    expect(report.counts).toMatchObject({ created: 1001, failed: 0 });
    expect(report.complete).toBe(true);
  }, 120_000);
});
