import { createServer } from 'node:net';
import { join } from 'node:path';
import { type ComponentSpecInput, computeDigest, NestorClient, normalizeSpec } from '@nestor/sdk';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCommand, tempFiles } from '../../../../test/cli-support.js';
import { defaultConfig } from '../config/config.js';
import { buildApp } from '../main.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { type DiffFlags, type DiffReport, registerDiffCommand, runDiff } from './diff.js';
import { buildProgram } from './root.js';

const tempDir = tempFiles('nestor-diff-');

function run(paths: string[], flags: DiffFlags = {}, env: Record<string, string> = {}) {
  return runCommand(runDiff, paths, flags, env);
}

const OUTPUTS = 'outputs:\n  - name: vpc_id\n    type: string\n';
const base = (version: string, outputs = OUTPUTS) => `name: z-base
version: ${version}
provider: aws
category: networking
resource_type: aws_vpc
deployment_engines: [terraform]
required_inputs:
  - name: cidr_block
    type: string
${outputs}`;

const stored = (name: string, version: string, extra: Partial<ComponentSpecInput> = {}) =>
  normalizeSpec({
    name,
    version,
    provider: 'aws',
    category: 'networking',
    resource_type: 'aws_vpc',
    deployment_engines: ['terraform'],
    required_inputs: [{ name: 'cidr_block', type: 'string' }],
    outputs: [{ name: 'vpc_id', type: 'string' }],
    ...extra,
  });

/** A SQLite catalog with z-base 1.0.0 and two dependents: a-app needs ^1.0.0, b-app >=1.0.0. */
async function catalogDir(): Promise<string> {
  const dataDir = tempDir({});
  const store = new SqliteStore({ path: join(dataDir, 'nestor.db') });
  for (const s of [
    stored('z-base', '1.0.0'),
    stored('a-app', '1.0.0', { dependencies: [{ name: 'z-base', version_range: '^1.0.0' }] }),
    stored('b-app', '1.0.0', { dependencies: [{ name: 'z-base', version_range: '>=1.0.0' }] }),
  ]) {
    await store.createComponent({ ...s, digest: computeDigest(s) });
  }
  await store.close();
  return dataDir;
}

describe('nestor diff (local catalog)', () => {
  it('fails a minor bump over a removed output, with the changes and the impact on dependents', async () => {
    const dataDir = await catalogDir();
    const dir = tempDir({ 'z-base/component.yaml': base('1.1.0', '') });
    const { code, stdout } = await run([dir], { dataDir, engine: ['terraform'] });
    expect(stdout).toContain(
      '✖ z-base  1.0.0 → 1.1.0  bump made: minor, required: major (insufficient: publish a major bump)',
    );
    expect(stdout).toMatch(/major\s+output_removed\s+outputs\[0\]/);
    expect(stdout).toContain('impact: 2 dependents accept, 0 reject');
    expect(stdout).toContain('accepts  a-app@1.0.0  (^1.0.0)');
    expect(stdout).toMatch(/^1 component: 0 bumps sufficient, 1 insufficient {2}\[local sqlite catalog\]$/m);
    expect(code).toBe(1);
  });

  it('passes a major bump and shows which dependents it leaves behind, also as JSON', async () => {
    const dataDir = await catalogDir();
    const dir = tempDir({ 'z-base/component.yaml': base('2.0.0', '') });
    const text = await run([dir], { dataDir, engine: ['terraform'] });
    expect(text.stdout).toContain('✔ z-base  1.0.0 → 2.0.0  bump made: major, required: major (sufficient)');
    expect(text.stdout).toContain('impact: 1 dependent accepts, 1 rejects');
    expect(text.stdout).toContain('rejects  a-app@1.0.0  (^1.0.0)');
    expect(text.code).toBe(0);

    const json = await run([dir], { dataDir, engine: ['terraform'], format: 'json' });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as DiffReport;
    expect(report.components).toHaveLength(1);
    expect(report.components[0]).toMatchObject({
      name: 'z-base',
      version: '2.0.0',
      predecessor: '1.0.0',
      required_bump: 'major',
      bump_made: 'major',
      sufficient: true,
      impact: { accepted: 1, rejected: 1, first_rejected: [{ name: 'a-app', version: '1.0.0' }] },
      findings: [],
    });
    expect(report.components[0]?.changes.map((c) => c.kind)).toEqual(['output_removed']);
    expect(report.summary).toEqual({ components: 1, sufficient: 1, insufficient: 0, findings: 0, file_errors: 0 });
  });

  it('compares with the highest version below, not the latest', async () => {
    const dataDir = await catalogDir();
    const store = new SqliteStore({ path: join(dataDir, 'nestor.db') });
    const two = stored('z-base', '2.0.0', { outputs: [] });
    await store.createComponent({ ...two, digest: computeDigest(two) });
    await store.close();
    // A back-ported 1.0.1 that only adds an output: its predecessor is 1.0.0, and a minor change needs 1.1.0.
    const dir = tempDir({
      'z-base/component.yaml': base('1.0.1', `${OUTPUTS}  - name: arn\n    type: string\n`),
    });
    const { code, stdout } = await run([dir], { dataDir, engine: ['terraform'], format: 'json' });
    const c = (JSON.parse(stdout) as DiffReport).components[0];
    expect(c).toMatchObject({ predecessor: '1.0.0', bump_made: 'patch', required_bump: 'minor', sufficient: false });
    expect(code).toBe(1);
  });

  it('reports a new name as having nothing to compare, and other validation errors as findings', async () => {
    const dataDir = await catalogDir();
    const fresh = tempDir({ 'n/component.yaml': base('1.0.0').replace('z-base', 'new-net') });
    const ok = await run([fresh], { dataDir, engine: ['terraform'] });
    expect(ok.stdout).toContain('✔ new-net  1.0.0  (no predecessor in the catalog: nothing to compare)');
    expect(ok.code).toBe(0);

    // Same number, other content: a version conflict, whatever the bump.
    const clash = tempDir({ 'z-base/component.yaml': base('1.0.0', '') });
    const bad = await run([clash], { dataDir, engine: ['terraform'], format: 'json' });
    const report = JSON.parse(bad.stdout) as DiffReport;
    expect(report.summary.findings).toBeGreaterThan(0);
    expect(report.components[0]?.findings.map((f) => f.code)).toContain('version_conflict');
    expect(bad.code).toBe(1);
  });

  it('compares several versions of one name in a folder, each with the one below it', async () => {
    const dir = tempDir({
      'z-base/1.0.0.component.yaml': base('1.0.0'),
      'z-base/1.1.0.component.yaml': base('1.1.0', `${OUTPUTS}  - name: arn\n    type: string\n`),
    });
    const { code, stdout } = await run([dir], { engine: ['terraform'] });
    expect(stdout).toContain('✔ z-base  1.0.0  (no predecessor');
    expect(stdout).toContain('✔ z-base  1.0.0 → 1.1.0  bump made: minor, required: minor (sufficient)');
    expect(stdout).toMatch(/minor\s+output_added\s+outputs\[1\]/);
    expect(stdout).toContain('impact: no existing dependents');
    expect(code).toBe(0);
  });

  it('answers 2 for usage and file errors: unknown format, missing path, not YAML, empty, no component files', async () => {
    const dir = tempDir({
      'z-base/component.yaml': base('1.0.0'),
      'broken/component.yaml': 'name: x\nversion: 1.0.0\n  provider: [aws\n',
      'empty/component.yaml': '',
      'nothing/readme.md': '# no component here\n',
    });
    const format = await run([dir], { format: 'xml' });
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('unknown format "xml"');
    expect(format.stdout).toBe('');

    for (const path of [join(dir, 'missing'), join(dir, 'broken'), join(dir, 'empty'), join(dir, 'nothing')]) {
      const { code, stdout } = await run([path], { engine: ['terraform'] });
      expect({ path, code }).toEqual({ path, code: 2 });
      expect(stdout).toMatch(/✖ .*(file_not_found|invalid_yaml|no_component)/);
    }
    // The good file is still compared when another is unreadable.
    const mixed = await run([join(dir, 'z-base'), join(dir, 'broken')], { engine: ['terraform'], format: 'json' });
    expect(mixed.code).toBe(2);
    const mixedReport = JSON.parse(mixed.stdout) as DiffReport;
    expect(mixedReport.summary.components).toBe(1);
    expect(new Set(mixedReport.file_errors.map((e) => e.code))).toEqual(new Set(['invalid_yaml']));
  });

  it('answers 1 for a document that is not a component (a misspelt key)', async () => {
    const dir = tempDir({ 'z-base/component.yaml': `${base('1.0.0')}requred_inputs: []\n` });
    const { code, stdout } = await run([dir], { engine: ['terraform'] });
    expect(stdout).toMatch(/invalid_request.*requred_inputs/);
    expect(code).toBe(1);
  });

  it('answers 2 for a SQLite store that does not exist', async () => {
    const dir = tempDir({ 'z-base/component.yaml': base('1.0.0') });
    const { code, stderr } = await run([dir], { store: 'sqlite', dataDir: join(dir, 'nowhere') });
    expect(code).toBe(2);
    expect(stderr).toContain('no SQLite store');
  });

  it('is a command with the exit codes in its help', async () => {
    let help = '';
    const program = new Command('nestor').exitOverride().configureOutput({
      writeOut: (t) => {
        help += t;
      },
    });
    registerDiffCommand(program);
    await expect(program.parseAsync(['diff', '--help'], { from: 'user' })).rejects.toMatchObject({ exitCode: 0 });
    expect(help).toContain('--server <url>');
    expect(buildProgram().commands.map((c) => c.name())).toContain('diff');
    expect(help).toContain('Exit codes:');
    expect(help).toMatch(/^ {2}0 {2}every bump is sufficient/m);
    expect(help).toMatch(/^ {2}1 {2}a bump is insufficient/m);
    expect(help).toMatch(/^ {2}2 {2}usage or file errors/m);
    expect(help).toMatch(/^ {2}3 {2}the server \(--server\) is unreachable/m);
  });
});

describe('nestor diff --server', () => {
  it('compares with the server catalog through POST /v1/validate, and answers 3 when it is unreachable', async () => {
    const config = defaultConfig();
    config.store.type = 'memory';
    config.data_dir = tempDir({});
    config.examples.enabled = false;
    config.log.level = 'silent';
    config.auth.tokens = [{ name: 'ci', token: 'ci-token', sha256: null, scopes: ['read', 'write'] }];
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
      const client = new NestorClient({ baseUrl: address, token: 'ci-token' });
      await client.createComponent(stored('z-base', '1.0.0'));
      await client.createComponent(
        stored('a-app', '1.0.0', { dependencies: [{ name: 'z-base', version_range: '~1.0.0' }] }),
      );

      const dir = tempDir({
        'minor/component.yaml': base('1.1.0', ''),
        'major/component.yaml': base('2.0.0', ''),
      });
      const insufficient = await run([join(dir, 'minor')], { server: address }, { NESTOR_TOKEN: 'ci-token' });
      expect(insufficient.stdout).toContain('✖ z-base  1.0.0 → 1.1.0  bump made: minor, required: major');
      expect(insufficient.stdout).toContain('rejects  a-app@1.0.0  (~1.0.0)');
      expect(insufficient.stdout).toContain(`[server ${address}]`);
      expect(insufficient.code).toBe(1);

      const json = await run([join(dir, 'major')], { server: address, format: 'json' });
      const report = JSON.parse(json.stdout) as DiffReport;
      expect(report.components[0]).toMatchObject({
        predecessor: '1.0.0',
        bump_made: 'major',
        required_bump: 'major',
        sufficient: true,
        impact: { accepted: 0, rejected: 1 },
      });
      expect(json.code).toBe(0);

      const refused = await run([join(dir, 'major')], { server: address, token: 'wrong' });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('unauthorized');
    } finally {
      await server.close();
    }

    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const dir = tempDir({ 'z-base/component.yaml': base('1.1.0') });
    const down = await run([dir], { server: `http://127.0.0.1:${closedPort}` });
    expect(down.code).toBe(3);
    expect(down.stdout).toBe('');
    expect(down.stderr).toContain(`cannot reach http://127.0.0.1:${closedPort}`);
  });
});
