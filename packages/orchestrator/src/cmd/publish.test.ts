import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AUTH, component, TOKENS, testApp, uniqueName } from '../../../../test/helpers.js';
import type { App } from '../main.js';
import { PUBLISH_EXIT, type PublishFlags, runPublish } from './publish.js';

let app: App;
let cleanup: () => Promise<void>;
let server: string;
const dirs: string[] = [];

beforeAll(async () => {
  ({ app, cleanup } = await testApp());
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  server = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A folder with one component.yaml per component, in sub-folders named after them. */
function folder(...components: object[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'nestor-publish-'));
  dirs.push(dir);
  for (const c of components) {
    const sub = join(dir, (c as { name: string }).name);
    mkdirSync(sub);
    writeFileSync(join(sub, 'component.yaml'), stringify(c));
  }
  return dir;
}

async function cli(path: string, flags: PublishFlags = {}) {
  let out = '';
  let err = '';
  const code = await runPublish(
    path,
    { server, ...flags },
    { stdout: (t) => (out += t), stderr: (t) => (err += t), env: { NESTOR_TOKEN: TOKENS.write } },
  );
  return { code, out, err };
}

const exists = async (name: string) =>
  (await app.server.inject({ method: 'GET', url: `/v1/components/${name}/versions/1.0.0`, headers: AUTH.read }))
    .statusCode === 200;

describe('nestor publish', () => {
  it('with --changeset publishes a dependent before its dependency in one step; --dry-run writes nothing', async () => {
    const base = uniqueName('pub-base');
    // The dependent sorts first: one by one it would fail, as one set it does not.
    const app1 = `a-${base}`;
    const dir = folder(
      component({ name: app1, dependencies: [{ name: base, version_range: '^1.0.0' }] }),
      component({ name: base }),
    );
    const dry = await cli(dir, { changeset: true, dryRun: true });
    expect(dry.code, dry.err).toBe(PUBLISH_EXIT.ok);
    expect(dry.out).toContain('changeset of 2: valid (dry run, nothing written)');
    expect(await exists(base)).toBe(false);
    const done = await cli(dir, { changeset: true, message: 'together' });
    expect(done.code, done.err).toBe(PUBLISH_EXIT.ok);
    expect(done.out).toContain(`${app1}@1.0.0: created`);
    expect(done.out).toMatch(/changeset [0-9a-f-]{36}: revision \d+/);
    expect(await exists(app1)).toBe(true);
    const again = await cli(dir, { changeset: true });
    expect(again.out).toContain('nothing written');
  });

  it('publishes one by one without --changeset, and reports refusals with exit 1', async () => {
    const name = uniqueName('pub-one');
    const dir = folder(component({ name }));
    expect((await cli(dir)).code).toBe(PUBLISH_EXIT.ok);
    expect(await exists(name)).toBe(true);
    const clash = folder(component({ name, description: 'other content' }));
    const refused = await cli(clash);
    expect(refused.code).toBe(PUBLISH_EXIT.refused);
    expect(refused.err).toContain('version_conflict');
    const setRefused = await cli(clash, { changeset: true });
    expect(setRefused.code).toBe(PUBLISH_EXIT.refused);
    const broken = folder(
      component({ name: uniqueName('pub-bad'), dependencies: [{ name: 'nowhere-at-all', version_range: '^1.0.0' }] }),
    );
    const invalid = await cli(broken, { changeset: true });
    expect(invalid.code).toBe(PUBLISH_EXIT.refused);
    expect(invalid.err).toContain('validation_failed');
  });

  it('answers usage errors with exit 2 and an unreachable server with exit 3', async () => {
    expect((await cli(join(tmpdir(), 'no-such-folder-nestor'))).code).toBe(PUBLISH_EXIT.usage);
    const dir = folder(component({ name: uniqueName('pub-x') }));
    expect((await cli(dir, { message: 'm' })).code).toBe(PUBLISH_EXIT.usage);
    const down = await runPublish(
      dir,
      { server: 'http://127.0.0.1:9', changeset: true },
      { stdout: () => {}, stderr: () => {}, env: {} },
    );
    expect(down).toBe(PUBLISH_EXIT.serverUnreachable);
  });
});
