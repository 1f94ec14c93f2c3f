import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { type InitFlags, type InitIo, runInit } from './init.js';
import { runValidate } from './validate.js';
import type { ValidateReport } from './validate-report.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nestor-init-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function init(name: string, flags: InitFlags, ask: InitIo['ask'] = null) {
  let stdout = '';
  let stderr = '';
  const code = await runInit(name, flags, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    ask,
  });
  return { code, stdout, stderr };
}

async function validate(path: string) {
  let stdout = '';
  const code = await runValidate(
    [path],
    { format: 'json' },
    { stdout: (t) => (stdout += t), stderr: () => {}, env: {} },
  );
  return { code, report: JSON.parse(stdout) as ValidateReport };
}

describe('nestor init', () => {
  it('writes a commented component.yaml that validates as written (defaults, nobody asked)', async () => {
    const out = join(dir, 'first');
    const { code, stdout } = await init('my-db', { out });
    expect(code).toBe(0);
    const file = join(out, 'component.yaml');
    expect(stdout).toContain(file);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=http://localhost:8080/v1/schemas/component.json');
    expect(text.split('\n').filter((l) => l.trimStart().startsWith('#')).length).toBeGreaterThan(10);
    const validated = await validate(file);
    expect(validated.code).toBe(0);
    expect(validated.report.summary).toMatchObject({ valid: 1, invalid: 0, file_errors: 0 });
    expect(validated.report.files[0]?.components[0]).toMatchObject({ name: 'my-db', version: '0.1.0' });
  });

  it('defaults to ./<name> and takes provider, category and resource type from flags', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const { code } = await init('gke-pool', {
        provider: 'gcp',
        category: 'compute',
        resourceType: 'google_container_node_pool',
      });
      expect(code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const file = join(dir, 'gke-pool', 'component.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8')).toJS() as Record<string, unknown>;
    expect(doc).toMatchObject({
      name: 'gke-pool',
      provider: 'gcp',
      category: 'compute',
      resource_type: 'google_container_node_pool',
    });
    expect((await validate(file)).code).toBe(0);
  });

  it('writes answers with YAML specials as the strings typed', async () => {
    const out = join(dir, 'quoted');
    expect((await init('quoted', { out, provider: 'aws', category: 'a: b # c', resourceType: 'x\'y"z' })).code).toBe(0);
    const doc = parseDocument(readFileSync(join(out, 'component.yaml'), 'utf8')).toJS() as Record<string, unknown>;
    expect(doc).toMatchObject({ category: 'a: b # c', resource_type: 'x\'y"z' });
  });

  it('asks on a terminal for what the flags do not give, keeping defaults on Enter', async () => {
    const out = join(dir, 'asked');
    const questions: string[] = [];
    const answers = ['azure', '', 'azurerm_thing'];
    const { code } = await init('asked', { out }, async (q, fallback) => {
      questions.push(`${q} [${fallback}]`);
      return answers.shift() ?? '';
    });
    expect(code).toBe(0);
    expect(questions).toHaveLength(3);
    const doc = parseDocument(readFileSync(join(out, 'component.yaml'), 'utf8')).toJS() as Record<string, unknown>;
    expect(doc).toMatchObject({ provider: 'azure', category: 'general', resource_type: 'azurerm_thing' });
  });

  it('refuses to overwrite an existing file and leaves it untouched', async () => {
    const out = join(dir, 'existing');
    expect((await init('existing', { out })).code).toBe(0);
    const file = join(out, 'component.yaml');
    writeFileSync(file, 'mine\n');
    const again = await init('existing', { out, provider: 'gcp' });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it.each(['My-DB', '../escape', '', 'a'.repeat(64), '-x'])('refuses the name %j with exit 2', async (name) => {
    const { code, stderr } = await init(name, { out: join(dir, 'bad') });
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot be a component name/);
  });
});
