import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISSUE_CODES } from '../validation/rules/common.js';
import { run as runCli } from './root.js';
import { loadRuleHelp } from './rule-help.js';
import { runValidate, type ValidateFlags } from './validate.js';
import type { ValidateReport } from './validate-report.js';

const SARIF_SCHEMA = fileURLToPath(
  new URL('../../../../test/fixtures/sarif-2.1.0-subset.schema.json', import.meta.url),
);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nestor-formats-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

async function validate(paths: string[], flags: ValidateFlags = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runValidate(paths, flags, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {},
  });
  return { code, stdout, stderr };
}

const base = (version: string, extra = '') => `name: z-base
version: ${version}
provider: aws
category: networking
resource_type: aws_vpc
deployment_engines: [terraform]
outputs:
  - name: vpc_id
    type: string
${extra}`;

/** Valid, invalid (a breaking change as a minor bump), a warning, and a misspelt key: findings only. */
function findingsTree(): string {
  return tree(`findings-${Math.random().toString(36).slice(2)}`, {
    'base/1.0.0.component.yaml': base('1.0.0'),
    'base/1.1.0.component.yaml': base('1.1.0').replace(/outputs:[\s\S]*$/, ''),
    'loose/component.yaml': 'name: loose\nversion: 0.1.0\nprovider: aws\ncategory: misc\nresource_type: "x<&>\'"\n',
    'typo/component.yaml': `${base('1.0.0').replace('z-base', 'typo')}requred_inputs: []\n`,
  });
}

describe('nestor validate --format github', () => {
  it('prints one workflow command per finding, with file, line and column', async () => {
    const root = findingsTree();
    const json = JSON.parse(
      (await validate([root], { format: 'json', engine: ['terraform'] })).stdout,
    ) as ValidateReport;
    const { code, stdout } = await validate([root], { format: 'github', engine: ['terraform'] });
    expect(code).toBe(1);
    const commands = stdout.split('\n').filter((l) => l.startsWith('::'));
    const expected = json.files.flatMap((f) => [
      ...f.errors.map((e) => ({ level: 'error', file: e.path, line: e.line, col: e.column, code: e.code })),
      ...f.components.flatMap((c) => [
        ...c.errors.map((e) => ({ level: 'error', file: f.path, line: e.line, col: e.column, code: e.code })),
        ...c.warnings.map((w) => ({ level: 'warning', file: f.path, line: w.line, col: w.column, code: w.code })),
      ]),
    ]);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    const parsed = commands.map((l) => {
      const m = /^::(error|warning) file=([^,]+),line=(\d+),col=(\d+),title=([^:]+)::(.+)$/.exec(l);
      expect(m, l).not.toBeNull();
      const [, level, file, line, col, title] = m ?? [];
      return { level, file, line: Number(line), col: Number(col), code: title?.split('%3A ')[1] };
    });
    expect(parsed).toEqual(expected);
    expect(commands.some((c) => c.includes('insufficient_version_bump'))).toBe(true);
    expect(stdout.trim().split('\n').at(-1)).toMatch(
      /^nestor validate: 2 valid, 1 invalid, 1 file error\(s\), \d+ warning\(s\)/,
    );
  });
});

describe('nestor validate --format junit', () => {
  it('is XML with one test case per component and one per unreadable file', async () => {
    const root = findingsTree();
    const json = JSON.parse(
      (await validate([root], { format: 'json', engine: ['terraform'] })).stdout,
    ) as ValidateReport;
    const { code, stdout } = await validate([root], { format: 'junit', engine: ['terraform'] });
    expect(code).toBe(1);
    const parser = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (n) => ['testsuite', 'testcase'].includes(n),
    });
    const doc = parser.parse(stdout, true) as {
      testsuites: {
        tests: string;
        failures: string;
        errors: string;
        testsuite: { name: string; testcase: Record<string, unknown>[] }[];
      };
    };
    const cases = doc.testsuites.testsuite.flatMap((s) => s.testcase);
    const components = json.files.flatMap((f) => f.components);
    expect(cases.length).toBe(components.length + json.summary.file_errors);
    expect(cases.map((c) => c.name)).toEqual(expect.arrayContaining(['z-base@1.0.0', 'z-base@1.1.0', 'loose@0.1.0']));
    const failed = cases.find((c) => c.name === 'z-base@1.1.0') as { failure: { type: string; '#text': string } };
    expect(failed.failure.type).toBe('insufficient_version_bump');
    expect(failed.failure['#text']).toMatch(/1\.1\.0\.component\.yaml:\d+:\d+ semver\/insufficient_version_bump/);
    const typo = cases.find((c) => String(c.name).endsWith('typo/component.yaml')) as { error: { type: string } };
    expect(typo.error.type).toBe('invalid_request');
    expect(Number(doc.testsuites.tests)).toBe(cases.length);
    expect(Number(doc.testsuites.failures)).toBe(1);
    expect(Number(doc.testsuites.errors)).toBe(1);
    // The resource_type with XML specials round-trips through the parser in the warning text.
    const loose = cases.find((c) => c.name === 'loose@0.1.0') as { 'system-out': string };
    expect(loose['system-out']).toMatch(/no_deployment_engine/);
  });

  it('stays well-formed with control characters and markup in messages', async () => {
    const root = tree('hostile', {
      'component.yaml':
        'name: "a\\u0001<b>&"\nversion: "1.0.0\\u001b]"\nprovider: aws\ncategory: c\nresource_type: r\n',
    });
    const { stdout } = await validate([root], { format: 'junit', engine: ['terraform'] });
    expect(() => new XMLParser().parse(stdout, true)).not.toThrow();
  });
});

describe('nestor validate --format sarif', () => {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  addFormats.default(ajv);
  const validSarif = ajv.compile(JSON.parse(readFileSync(SARIF_SCHEMA, 'utf8')) as object);

  it('is SARIF 2.1.0 whose rule ids are the validation codes, with help from docs/validation.md', async () => {
    const root = findingsTree();
    const { code, stdout } = await validate([root], { format: 'sarif', engine: ['terraform'] });
    expect(code).toBe(1);
    const log = JSON.parse(stdout) as {
      version: string;
      runs: {
        tool: { driver: { rules: { id: string; help: { text: string } }[] } };
        results: {
          ruleId: string;
          ruleIndex: number;
          locations: { physicalLocation: { region?: { startLine: number } } }[];
        }[];
      }[];
    };
    expect(validSarif(log), JSON.stringify(validSarif.errors)).toBe(true);
    const run = log.runs[0]!;
    const ids = run.tool.driver.rules.map((r) => r.id);
    const known = new Set<string>([...Object.values(ISSUE_CODES).flat(), 'invalid_request']);
    for (const id of ids) expect(known.has(id), id).toBe(true);
    expect(ids).toContain('insufficient_version_bump');
    const docs = readFileSync(fileURLToPath(new URL('../../../../docs/validation.md', import.meta.url)), 'utf8');
    const row = docs.split('\n').find((l) => l.startsWith('| `insufficient_version_bump`'))!;
    const when = row.split('|')[3]!.trim();
    const bump = run.tool.driver.rules.find((r) => r.id === 'insufficient_version_bump')!;
    expect(bump.help.text).toContain(when);
    for (const r of run.results) expect(ids[r.ruleIndex]).toBe(r.ruleId);
    expect(run.results.every((r) => (r.locations[0]?.physicalLocation.region?.startLine ?? 0) >= 1)).toBe(true);
  });

  it('has help for every validation code', () => {
    const help = loadRuleHelp();
    for (const codes of Object.values(ISSUE_CODES)) {
      for (const code of codes) {
        expect(help.get(code)?.text, code).toMatch(/\w/);
        // A code shared by two rules (description_too_long) keeps its first documented rule.
        expect(Object.entries(ISSUE_CODES).find(([, c]) => (c as readonly string[]).includes(code))?.[0]).toBe(
          help.get(code)?.rule,
        );
      }
    }
  });
});

describe('nestor validate exit codes', () => {
  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const write = { out: process.stdout.write, err: process.stderr.write };
    process.stdout.write = ((t: string) => out.push(String(t)) > 0) as typeof process.stdout.write;
    process.stderr.write = ((t: string) => err.push(String(t)) > 0) as typeof process.stderr.write;
    const previous = process.exitCode;
    try {
      process.exitCode = undefined;
      const code = await runCli(['node', 'nestor', ...args]);
      return { code, out: out.join(''), err: err.join('') };
    } finally {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
      process.exitCode = previous;
    }
  }

  it('0 valid, 1 findings', async () => {
    const ok = tree('ok', { 'component.yaml': base('1.0.0') });
    expect((await cli(['validate', '--engine', 'terraform', ok])).code).toBe(0);
    expect((await cli(['validate', '--engine', 'terraform', findingsTree()])).code).toBe(1);
  });

  it.each([
    ['an unknown format', (p: string) => ['validate', '--format', 'xml', p], /argument 'xml' is invalid/],
    ['an empty file', () => ['validate', tree('empty', { 'component.yaml': '' })], /no_component/],
    [
      'a file that is not YAML',
      () => ['validate', tree('notyaml', { 'component.yaml': '{ name: [x\n' })],
      /invalid_yaml/,
    ],
    ['a folder without components', () => ['validate', tree('none', { 'README.md': '# hi\n' })], /no_component/],
    ['a missing path', () => ['validate', join(dir, 'nope')], /file_not_found/],
    ['an unknown flag', (p: string) => ['validate', '--formt', 'json', p], /unknown option/],
  ])('2 for %s', async (_what, args, message) => {
    const { code, out, err } = await cli(args(tree('ok2', { 'component.yaml': base('1.0.0') })));
    expect(code).toBe(2);
    expect(out + err).toMatch(message);
  });

  it('3 when the server is down', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const { code, err } = await cli([
      'validate',
      '--server',
      `http://127.0.0.1:${port}`,
      tree('ok3', { 'component.yaml': base('1.0.0') }),
    ]);
    expect(code).toBe(3);
    expect(err).toMatch(/cannot validate against .*ECONNREFUSED/);
  });

  it.each([
    ['HTML with 200', 200, 'text/html', '<html>hello</html>'],
    ['JSON of another shape', 200, 'application/json', '{"results":[{"ok":true}]}'],
    ['a bare 502', 502, 'text/plain', 'bad gateway'],
    ['a 404 page', 404, 'text/html', '<h1>not found</h1>'],
  ])('3 when the server answers %s', async (_what, status, type, body) => {
    const garbage: Server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    });
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    try {
      const port = (garbage.address() as AddressInfo).port;
      const { code, err } = await cli([
        'validate',
        '--server',
        `http://127.0.0.1:${port}`,
        tree('ok4', { 'component.yaml': base('1.0.0') }),
      ]);
      expect(code).toBe(3);
      expect(err).toMatch(/^nestor: cannot validate against/);
      expect(err).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise<void>((r) => garbage.close(() => r()));
    }
  });

  it('documents the exit codes and formats in --help', async () => {
    const { code, out } = await cli(['validate', '--help']);
    expect(code).toBe(0);
    for (const line of [/0\s+every component is valid/, /1\s+findings/, /2\s+usage or file errors/, /3\s+the server/])
      expect(out).toMatch(line);
    expect(out).toMatch(/github.*junit.*sarif/s);
  });
});
