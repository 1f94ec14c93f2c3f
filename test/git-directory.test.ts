import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SourceStatus } from '@nestor/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { componentYaml, eventually } from './git-helpers.js';
import { testConfig } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function appWithExamples(path: string): Promise<App> {
  const { config, dir } = testConfig((c) => {
    c.examples.enabled = true;
    c.examples.path = path;
    // No engines configured: the examples name terraform, pulumi and crossplane, which the defaults
    // know (never probed, health unknown), as on `npm start`.
  });
  const app = await buildApp(config);
  cleanups.push(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return app;
}

describe('examples directory source', () => {
  it('loads the repository examples/ into an empty store on start, every file valid, dependencies in order', async () => {
    const app = await appWithExamples(resolve('examples'));
    await app.start();
    const status = await eventually(async () => {
      const s = await app.sources.status('examples');
      return s.last_sync_at ? s : null;
    }, 20_000);
    expect(status.errors).toEqual([]);
    expect(status.counts.failed).toBe(0);
    expect(status.counts.created).toBeGreaterThanOrEqual(12);
    const list = await app.server.inject({ method: 'GET', url: '/v1/components?limit=500' });
    const providers = new Set(list.json<{ items: { provider: string }[] }>().items.map((c) => c.provider));
    for (const p of ['aws', 'gcp', 'azure']) expect(providers).toContain(p);
    // Every version a sync publishes names its source.
    const publishers = new Set(list.json<{ items: { published_by: string }[] }>().items.map((c) => c.published_by));
    expect([...publishers]).toEqual(['source:examples']);
  });

  it('watches the folder and syncs a change, with per-file errors for bad files and symlinks', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nestor-examples-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'net'));
    // The dependent sorts first by path and by name; the sync orders by dependencies.
    writeFileSync(
      join(root, 'net', 'a-app.yaml'),
      componentYaml({ name: 'dir-app', dependencies: [{ name: 'dir-net', version_range: '^1.0.0' }] }),
    );
    writeFileSync(join(root, 'net', 'b-net.yaml'), componentYaml({ name: 'dir-net' }));
    writeFileSync(join(root, 'README.md'), '# not a component');
    symlinkSync('/etc/hostname', join(root, 'link.yaml'));
    const app = await appWithExamples(root);
    await app.start();
    await eventually(async () => (await app.sources.status('examples')).last_sync_at);
    const status = await app.sources.status('examples');
    expect(status).toMatchObject({ type: 'directory', url: root, branch: null });
    expect(status.counts).toMatchObject({ created: 2, failed: 1 });
    expect(status.errors).toEqual([expect.objectContaining({ path: 'link.yaml', code: 'symlink_not_allowed' })]);

    writeFileSync(join(root, 'net', 'c-dns.yaml'), componentYaml({ name: 'dir-dns' }));
    writeFileSync(join(root, 'bad.yaml'), 'name: [oops\n');
    await eventually(
      async () => (await app.server.inject({ method: 'GET', url: '/v1/components/dir-dns' })).statusCode === 200,
    );
    const after = await eventually(async () => {
      const s = (await app.server.inject({ method: 'GET', url: '/v1/sources/examples' })).json<SourceStatus>();
      return s.errors.some((e) => e.path === 'bad.yaml') ? s : null;
    });
    expect(after.errors.find((e) => e.path === 'bad.yaml')).toMatchObject({ code: 'invalid_yaml' });

    // An unchanged folder appends no event.
    const before = (await app.store.readEvents(0, 1000)).filter((e) => e.type === 'source.synced').length;
    const report = await app.sources.sync('examples');
    expect(report.event_id).toBeNull();
    expect((await app.store.readEvents(0, 1000)).filter((e) => e.type === 'source.synced')).toHaveLength(before);
  });
});
