import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { componentYaml, TempRepo } from '../../../../test/git-helpers.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { runSync } from './sync.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setUp(branch = 'main') {
  const repo = new TempRepo();
  const dir = mkdtempSync(join(tmpdir(), 'nestor-sync-cli-'));
  cleanups.push(
    () => repo.cleanup(),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  const configFile = join(dir, 'nestor.yaml');
  writeFileSync(
    configFile,
    `data_dir: ${dir}
store: { type: sqlite, path: ${join(dir, 'nestor.db')} }
examples: { enabled: false }
sources:
  - { name: platform, type: git, url: "${repo.url}", branch: ${branch}, paths: ["**/component.yaml"] }
`,
  );
  return { repo, dir, configFile };
}

async function sync(configFile: string, source = 'platform', flags: { confirmRemovals?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runSync(
    source,
    { config: configFile, ...flags },
    {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
      env: {},
    },
  );
  return { code, stdout, stderr };
}

describe('nestor sync', () => {
  it('stops at the orphan breaker (exit 1, nothing written) until --confirm-removals', async () => {
    const { repo, configFile } = setUp();
    for (let i = 0; i < 4; i++) repo.write(`c${i}/component.yaml`, componentYaml({ name: `cli-o${i}` }));
    repo.commit('four');
    expect((await sync(configFile)).code).toBe(0);
    for (let i = 0; i < 3; i++) repo.remove(`c${i}/component.yaml`);
    repo.commit('remove three');
    const blocked = await sync(configFile);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toContain("blocked: it would orphan 3 of the source's 4 version(s) (75 %");
    expect(blocked.stdout).toContain('--confirm-removals');
    const confirmed = await sync(configFile, 'platform', { confirmRemovals: true });
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain('orphaned 3 version(s) whose files left the source');
  });

  it('syncs a git source into the SQLite store, printing progress and a summary', async () => {
    const { repo, dir, configFile } = setUp();
    repo.write('a/component.yaml', componentYaml({ name: 'cli-a' }));
    repo.write('b/component.yaml', componentYaml({ name: 'cli-b' }));
    const commit = repo.commit('two');
    const first = await sync(configFile);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('platform: fetching');
    expect(first.stdout).toContain(`source platform at ${commit}`);
    expect(first.stdout).toContain('created 2, unchanged 0, failed 0, conflicts 0');

    const store = new SqliteStore({ path: join(dir, 'nestor.db') });
    try {
      expect((await store.getComponent('cli-a', '1.0.0'))?.git_commit).toBe(commit);
    } finally {
      await store.close();
    }
    const again = await sync(configFile);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('incremental sync of 0 file(s)');
    expect(again.stdout).toContain('the source holds 2 file(s) defining 2 version(s)');
  });

  it('exits 1 and lists per-file errors with positions when a file is bad', async () => {
    const { repo, configFile } = setUp();
    repo.write('ok/component.yaml', componentYaml({ name: 'cli-ok' }));
    repo.write('bad/component.yaml', 'name: x\nversion: [\n');
    repo.commit('mixed');
    const out = await sync(configFile);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/bad\/component\.yaml:\d+:\d+ invalid_yaml: /);
    expect(out.stdout).toContain('created 1');
  });

  it('exits 2 with one clear line for a missing branch or an unknown source', async () => {
    const { repo, configFile } = setUp('release');
    repo.write('a/component.yaml', componentYaml({ name: 'cli-z' }));
    repo.commit('one');
    const wrong = await sync(configFile);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('branch "release" does not exist');
    const unknown = await sync(configFile, 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('(source_not_found)');
  });
});
