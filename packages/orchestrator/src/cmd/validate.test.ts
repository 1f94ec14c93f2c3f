import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeDigest, normalizeSpec } from '@nestor/sdk';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { runCommand, tempFiles } from '../../../../test/cli-support.js';
import { defaultConfig } from '../config/config.js';
import { buildApp } from '../main.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { registerValidateCommand, runValidate, type ValidateFlags } from './validate.js';
import type { ValidateReport } from './validate-report.js';

const EXAMPLES = fileURLToPath(new URL('../../../../examples', import.meta.url));

const tempDir = tempFiles('nestor-validate-');

function run(paths: string[], flags: ValidateFlags = {}, env: Record<string, string> = {}) {
  return runCommand(runValidate, paths, flags, env);
}

const base = (version: string, extra = '') => `name: z-base
version: ${version}
provider: aws
category: networking
resource_type: aws_vpc
deployment_engines: [terraform]
required_inputs:
  - name: cidr_block
    type: string
outputs:
  - name: vpc_id
    type: string
${extra}`;

const app = `name: a-app
version: 1.0.0
provider: aws
category: database
resource_type: aws_db_instance
deployment_engines: [terraform]
dependencies:
  - name: z-base
    version_range: ^1.0.0
required_inputs:
  - name: password
    type: secret
    sensitive: true
outputs:
  - name: connection_string
    type: secret
    sensitive: true
`;

describe('nestor validate (local catalog)', () => {
  it('validates the shipped examples as one set', async () => {
    // The examples name terraform, pulumi and crossplane, which the defaults know (health unknown).
    const { code, stdout } = await run([EXAMPLES], {});
    expect(stdout).toContain('✔ aws-rds-postgres@3.0.0');
    expect(stdout).toContain('required bump: major (since 2.3.0)');
    expect(stdout).toMatch(/^17 valid, 0 invalid/m);
    expect(code).toBe(0);
  });

  it('validates a set whose dependencies live in other files, whatever the file order', async () => {
    // a-app sorts before z-base by name, yet needs it: the set is taken in dependency order.
    const dir = tempDir({
      'a-app/component.yaml': app,
      'z-base/1.0.0.component.yaml': base('1.0.0'),
      'z-base/1.1.0.component.yaml': base('1.1.0', '  - name: subnet_ids\n    type: list\n'),
      'notes.yaml': 'not: a component file, so the walk skips it\n',
    });
    const { code, stdout } = await run([dir], { engine: ['terraform'] });
    expect(stdout).toContain('✔ a-app@1.0.0');
    expect(stdout).toContain('✔ z-base@1.1.0');
    expect(stdout).toContain('minor  output_added  outputs[1]');
    expect(stdout).toMatch(/^3 valid, 0 invalid/m);
    expect(stdout).not.toContain('notes.yaml');
    expect(code).toBe(0);
  });

  it('reads a file named explicitly whatever its name, with several documents', async () => {
    const dir = tempDir({ 'set.yaml': `${base('1.0.0')}---\n${app}` });
    const { code, stdout } = await run([join(dir, 'set.yaml')], { engine: ['terraform'] });
    expect(stdout).toMatch(/^2 valid, 0 invalid/m);
    expect(code).toBe(0);
  });

  it('fails on a breaking change published as a minor version, naming rule, code, field and line', async () => {
    const dir = tempDir({
      'z-base/1.0.0.component.yaml': base('1.0.0'),
      // outputs removed: a major change
      'z-base/1.1.0.component.yaml': base('1.1.0').replace(/outputs:[\s\S]*$/, ''),
    });
    const { code, stdout } = await run([dir], { engine: ['terraform'] });
    expect(code).toBe(1);
    expect(stdout).toContain('✔ z-base@1.0.0');
    expect(stdout).toContain('✖ z-base@1.1.0');
    expect(stdout).toMatch(/error\s+semver\s+insufficient_version_bump\s+version\s+.*\(line 2:1\)/);
    expect(stdout).toContain('required bump: major (since 1.0.0)');
    expect(stdout).toContain('major  output_removed');
    expect(stdout).toMatch(/^1 valid, 1 invalid/m);
  });

  it('reports a missing dependency and an unregistered engine, with a hint', async () => {
    // A configured engines list, even an empty one, replaces the default terraform/pulumi/crossplane.
    const dir = tempDir({ 'a-app/component.yaml': app, 'nestor.yaml': 'engines: []\n' });
    const { code, stdout, stderr } = await run([join(dir, 'a-app')], { config: join(dir, 'nestor.yaml') });
    expect(code).toBe(1);
    expect(stdout).toMatch(/dependencies\s+dependency_not_found\s+dependencies\[0\]\.name/);
    expect(stdout).toMatch(/engines\s+engine_not_found\s+deployment_engines\[0\]/);
    expect(stderr).toContain('--engine');
  });

  it('takes engines from a config file', async () => {
    const dir = tempDir({
      'z-base/component.yaml': base('1.0.0'),
      'nestor.yaml': 'engines:\n  - { name: terraform, type: terraform }\n',
    });
    const { code } = await run([join(dir, 'z-base')], { config: join(dir, 'nestor.yaml') });
    expect(code).toBe(0);
  });

  it('reports malformed YAML and undecodable documents with file:line:column', async () => {
    const dir = tempDir({
      'broken/component.yaml': 'name: x\nversion: 1.0.0\n  provider: [aws\n',
      'typo/component.yaml': `${base('1.0.0')}requred_inputs: []\n`,
    });
    const { code, stdout } = await run([dir], { engine: ['terraform'] });
    // A file that is not YAML is a file error (2); a misspelt key alone would be a finding (1).
    expect(code).toBe(2);
    expect(stdout).toMatch(/✖ \S+broken\/component\.yaml:\d+:\d+\s+invalid_yaml\s+invalid YAML/);
    expect(stdout).toMatch(/✖ \S+typo\/component\.yaml:13:1\s+invalid_request\s+.*requred_inputs/);
    expect(stdout).toMatch(/^0 valid, 0 invalid \(\d+ file errors\)/m);
  });

  it('fails for a path that does not exist or a folder without component files', async () => {
    const empty = tempDir({ 'readme.md': '# nothing here\n' });
    const { code, stdout } = await run([join(empty, 'missing'), empty]);
    expect(code).toBe(2);
    expect(stdout).toContain('file_not_found');
    expect(stdout).toContain('no_component');
  });

  it('reads a folder as a directory source does: listing order, skipped folders, symlinks reported', async () => {
    const dir = tempDir({
      'b/component.yaml': base('1.0.0'),
      'b-x/component.yaml': 'name: [\n',
      'a.component.yaml': app,
      '.hidden/component.yaml': 'name: [\n',
      'node_modules/m/component.yaml': 'name: [\n',
      'notes/readme.md': '# not a component\n',
    });
    symlinkSync(join(dir, 'b', 'component.yaml'), join(dir, 'link.component.yaml'));
    const { code, stdout } = await run([dir], { format: 'json' });
    const report = JSON.parse(stdout) as ValidateReport;
    // Depth first, each folder's entries by name, as a recursive listing shows them.
    expect(report.files.map((f) => f.path)).toEqual(
      ['a.component.yaml', 'b/component.yaml', 'b-x/component.yaml', 'link.component.yaml'].map((p) => join(dir, p)),
    );
    expect(report.files.map((f) => f.errors.map((e) => e.code))).toEqual([
      [],
      [],
      ['invalid_yaml'],
      ['symlink_not_allowed'],
    ]);
    expect(report.files[2]?.errors[0]).toMatchObject({ path: join(dir, 'b-x/component.yaml'), line: 2 });
    expect(report.summary).toMatchObject({ valid: 2, invalid: 0, file_errors: 2 });
    expect(code).toBe(2);
  });

  it('reports a path that is neither file nor folder with the sync code file_unreadable', async () => {
    const { code, stdout } = await run(['/dev/null'], { format: 'json' });
    expect(code).toBe(2); // a file error: usage or file errors exit 2 (DESIGN 10.10)
    const report = JSON.parse(stdout) as ValidateReport;
    expect(report.files.flatMap((f) => f.errors.map((e) => e.code))).toEqual(['file_unreadable']);
  });

  it('prints machine-readable results with --format json', async () => {
    const dir = tempDir({
      'z-base/component.yaml': base('1.0.0'),
      'a-app/component.yaml': app,
      'e.yaml': 'engines: []\n',
    });
    const { code, stdout } = await run([dir], { format: 'json', config: join(dir, 'e.yaml') });
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as ValidateReport;
    expect(report.summary).toMatchObject({ valid: 0, invalid: 2, file_errors: 0 });
    const appReport = report.files.flatMap((f) => f.components).find((c) => c.name === 'a-app');
    const engineError = appReport?.errors.find((e) => e.code === 'engine_not_found');
    expect(engineError).toMatchObject({ rule: 'engines', field: 'deployment_engines[0]', line: 6 });
  });

  it('fails on warnings with --strict', async () => {
    const dir = tempDir({ 'z-base/component.yaml': base('1.0.0') });
    expect((await run([dir], { engine: ['terraform'] })).code).toBe(0);
    expect((await run([dir], { engine: ['terraform'], strict: true })).code).toBe(1);
  });

  it('validates against an existing SQLite store without writing to it', async () => {
    const dataDir = tempDir({});
    const store = new SqliteStore({ path: join(dataDir, 'nestor.db') });
    const spec = normalizeSpec({
      name: 'z-base',
      version: '1.0.0',
      provider: 'aws',
      category: 'networking',
      resource_type: 'aws_vpc',
      deployment_engines: [],
    });
    await store.createComponent({ ...spec, digest: computeDigest(spec) });
    const head = await store.headSequence();
    await store.close();

    const dir = tempDir({ 'a-app/component.yaml': app });
    const { code, stdout } = await run([dir], { store: 'sqlite', dataDir, engine: ['terraform'] });
    expect(stdout).toContain('✔ a-app@1.0.0');
    expect(code).toBe(0);

    const reopened = new SqliteStore({ path: join(dataDir, 'nestor.db') });
    expect(await reopened.listComponentNames()).toEqual(['z-base']);
    expect(await reopened.headSequence()).toBe(head);
    await reopened.close();
  });

  it('prints the impact of each file on the dependents already in the catalog', async () => {
    const dataDir = tempDir({});
    const store = new SqliteStore({ path: join(dataDir, 'nestor.db') });
    const spec = (name: string, deps: { name: string; version_range: string }[] = []) =>
      normalizeSpec({
        name,
        version: '1.0.0',
        provider: 'aws',
        category: 'networking',
        resource_type: 'aws_vpc',
        deployment_engines: [],
        dependencies: deps,
      });
    for (const s of [
      spec('z-base'),
      spec('a-app', [{ name: 'z-base', version_range: '^1.0.0' }]),
      spec('b-app', [{ name: 'z-base', version_range: '>=1.0.0' }]),
    ]) {
      await store.createComponent({ ...s, digest: computeDigest(s) });
    }
    await store.close();

    const dir = tempDir({ 'z-base/component.yaml': base('2.0.0') });
    const { stdout } = await run([dir], { store: 'sqlite', dataDir, engine: ['terraform'] });
    expect(stdout).toContain('impact: 1 dependent accepts, 1 rejects');
    expect(stdout).toContain('accepts  b-app@1.0.0  (>=1.0.0)');
    expect(stdout).toContain('rejects  a-app@1.0.0  (^1.0.0)');
    const json = JSON.parse(
      (await run([dir], { store: 'sqlite', dataDir, engine: ['terraform'], format: 'json' })).stdout,
    );
    expect(json.files[0].components[0].impact).toMatchObject({ accepted: 1, rejected: 1 });
  });

  it('parses its flags through commander and sets the exit code', async () => {
    const dir = tempDir({ 'z-base/component.yaml': base('1.0.0') });
    const program = new Command('nestor').exitOverride();
    registerValidateCommand(program);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const previous = process.exitCode;
    try {
      await program.parseAsync(
        ['validate', dir, '--engine', 'crossplane', '--engine', 'terraform', '--format', 'json'],
        {
          from: 'user',
        },
      );
      const printed = write.mock.calls.map((c) => String(c[0])).join('');
      expect((JSON.parse(printed) as ValidateReport).summary.valid).toBe(1);
      expect(process.exitCode).toBe(0);
    } finally {
      write.mockRestore();
      process.exitCode = previous;
    }
  });

  it('refuses a SQLite store that does not exist', async () => {
    const dir = tempDir({ 'z-base/component.yaml': base('1.0.0') });
    await expect(run([dir], { store: 'sqlite', dataDir: join(dir, 'nowhere') })).rejects.toThrow(/no SQLite store/);
  });
});

describe('nestor validate --server', () => {
  it('validates through POST /v1/validate with the token from NESTOR_TOKEN', async () => {
    const dataDir = tempDir({});
    const config = defaultConfig();
    config.store.type = 'memory';
    config.data_dir = dataDir;
    config.examples.enabled = false;
    config.log.level = 'silent';
    config.auth.anonymous_read = false;
    config.auth.tokens = [{ name: 'ci', token: 'ci-token', sha256: null, scopes: ['read'] }];
    config.engines = [
      {
        name: 'terraform',
        type: 'terraform',
        endpoint: null,
        health_path: null,
        interval_ms: 10_000,
        timeout_ms: 2_000,
        failure_threshold: 3,
        success_threshold: 1,
        labels: {},
      },
    ];
    const server = await buildApp(config);
    try {
      const address = await server.server.listen({ host: '127.0.0.1', port: 0 });
      const dir = tempDir({ 'z-base/component.yaml': base('1.0.0'), 'a-app/component.yaml': app });

      const ok = await run([join(dir, 'z-base')], { server: address }, { NESTOR_TOKEN: 'ci-token' });
      expect(ok.stdout).toContain('✔ z-base@1.0.0');
      expect(ok.stdout).toContain(`[server ${address}]`);
      expect(ok.code).toBe(0);

      // The server judges each file against its own catalog, where z-base is not published.
      const missing = await run([dir], { server: address, token: 'ci-token', format: 'json' });
      const report = JSON.parse(missing.stdout) as ValidateReport;
      expect(report.summary).toMatchObject({ valid: 1, invalid: 1 });
      expect(missing.code).toBe(1);

      const refused = await run([dir], { server: address, token: 'wrong' });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/\(unauthorized\)/);
    } finally {
      await server.close();
    }
  });
});
