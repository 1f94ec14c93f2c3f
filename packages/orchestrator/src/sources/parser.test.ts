import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_YAML_LIMITS } from '../yaml/bounded-yaml.js';
import { fieldPath, MAX_FILE_BYTES, parseComponentFile, pathProblem } from './parser.js';

const REPO = 'https://git.example.com/platform/components.git';
const COMMIT = 'a'.repeat(40);

function parse(text: string | Buffer, path = 'aws/rds/component.yaml') {
  return parseComponentFile({
    path,
    content: typeof text === 'string' ? Buffer.from(text) : text,
    repository: REPO,
    commit: COMMIT,
  });
}

const VALID = `name: aws-rds
version: 1.2.0
provider: aws
category: database
resource_type: postgresql
required_inputs:
  - name: instance_class
    type: string
`;

describe('parseComponentFile', () => {
  it('turns a document into a normalised spec with the git fields filled in', () => {
    const { components, errors } = parse(VALID);
    expect(errors).toEqual([]);
    expect(components).toHaveLength(1);
    const [c] = components;
    expect(c?.spec).toMatchObject({
      name: 'aws-rds',
      version: '1.2.0',
      git_repository: REPO,
      git_commit: COMMIT,
      git_path: 'aws/rds/component.yaml',
      maturity: 'alpha',
      optional_inputs: [],
    });
    expect(c?.position).toEqual({ line: 1, column: 1 });
  });

  it('reads several documents from one file; a bad one does not hide the good ones', () => {
    const text = `${VALID}---\nname: aws-rds\nversion: 1.3.0\nprovider: aws\ncategory: database\nresource_type: postgresql\nrequred_inputs: []\n---\n${VALID.replace('1.2.0', '1.4.0')}`;
    const { components, errors } = parse(text);
    expect(components.map((c) => c.spec.version)).toEqual(['1.2.0', '1.4.0']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'invalid_request', line: 15, column: 1 });
    expect(errors[0]?.message).toContain('document 2');
    expect(errors[0]?.message).toContain('requred_inputs');
  });

  it('points at the offending field of a wrongly typed value', () => {
    const { errors } = parse(VALID.replace('type: string', 'type: [1, 2]'));
    expect(errors[0]).toMatchObject({ code: 'invalid_request', line: 8, column: 5 });
    expect(errors[0]?.message).toContain('required_inputs[0].type');
  });

  it('reports malformed YAML with its line and column', () => {
    const { components, errors } = parse('name: a\nversion: [1.0.0\nprovider: aws\n');
    expect(components).toEqual([]);
    expect(errors[0]?.code).toBe('invalid_yaml');
    expect(errors[0]?.line).toBeGreaterThanOrEqual(2);
    expect(errors[0]?.column).toBeGreaterThanOrEqual(1);
  });

  it('rejects duplicate keys, alias bombs and empty files', () => {
    expect(parse(`${VALID}name: other\n`).errors[0]?.code).toBe('invalid_yaml');
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    expect(parse(bomb.join('\n')).errors[0]?.code).toBe('yaml_too_complex');
    expect(parse('').errors[0]?.code).toBe('no_component');
    expect(parse('# only a comment\n').errors[0]?.code).toBe('no_component');
  });

  it('refuses binary, oversized, non-UTF-8 files and unsafe paths before parsing', () => {
    expect(parse(Buffer.from([0x6e, 0x61, 0, 0x6d])).errors[0]?.code).toBe('binary_file');
    expect(parse(Buffer.alloc(MAX_FILE_BYTES + 1, 0x61)).errors[0]?.code).toBe('file_too_large');
    expect(parse(Buffer.from([0x6e, 0xff, 0xfe])).errors[0]?.code).toBe('invalid_encoding');
    expect(parse(VALID, '../outside/component.yaml').errors[0]?.code).toBe('path_not_allowed');
    expect(parse(VALID, 'a/../../component.yaml').errors[0]?.code).toBe('path_not_allowed');
    expect(parse(VALID, '/etc/component.yaml').errors[0]?.code).toBe('path_not_allowed');
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const out = parse(Buffer.from(bytes));
        expect(out.components.length + out.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const out = parse(text);
        for (const e of out.errors) expect(typeof e.message).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});

describe('hostile YAML', () => {
  const refused = (text: string | Buffer) => {
    const started = performance.now();
    const out = parse(text);
    const ms = performance.now() - started;
    expect(out.components).toEqual([]);
    expect(out.errors).toHaveLength(1);
    return { error: out.errors[0], ms };
  };

  it('survives the 6 KB flow-nesting file twice in one process (it used to abort Node on the second parse)', () => {
    const text = `a: ${'['.repeat(3000)}${']'.repeat(3000)}\n`;
    for (let i = 0; i < 3; i++) {
      const { error } = refused(text);
      expect(error).toMatchObject({ code: 'yaml_too_complex', line: 1, column: 68 });
      expect(error?.message).toContain('deeper than 64 levels');
    }
    // The process is still sound: ordinary files still parse.
    expect(parse(VALID).errors).toEqual([]);
  });

  it('refuses deep block sequences, block mappings, explicit keys and flow mappings', () => {
    const texts = [
      `${'- '.repeat(5000)}x\n`,
      `${'? '.repeat(5000)}x\n`,
      `a: ${'{a: '.repeat(3000)}${'}'.repeat(3000)}\n`,
      Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n',
    ];
    for (const text of texts) expect(refused(text).error?.code).toBe('yaml_too_complex');
  });

  it('accepts nesting up to the limit', () => {
    const depth = DEFAULT_YAML_LIMITS.maxDepth - 4;
    const value = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    const text = VALID.replace('    type: string\n', `    type: string\n    default: ${value}\n`);
    const out = parse(text);
    expect(out.errors).toEqual([]);
    expect(out.components).toHaveLength(1);
  });

  it('refuses a billion laughs, aliases deeper than the limit, and an alias inside its own anchor', () => {
    const laughs = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i <= 9; i++)
      laughs.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const bomb = refused(`${laughs.join('\n')}\n`);
    expect(bomb.error?.code).toBe('yaml_too_complex');
    expect(bomb.error?.message).toContain('aliases expanded');
    expect(bomb.ms).toBeLessThan(2000);

    // Each anchor is 40 deep, each alias adds another 40: shallow text, deep value.
    const chain = ['k0: &d0 ' + '['.repeat(40) + '1' + ']'.repeat(40)];
    for (let i = 1; i < 6; i++) chain.push(`k${i}: &d${i} ${'['.repeat(40)}*d${i - 1}${']'.repeat(40)}`);
    expect(refused(`${chain.join('\n')}\n`).error?.message).toContain('deeper than 64 levels (aliases expanded)');

    expect(refused('a: &a [*a]\n').error).toMatchObject({ code: 'yaml_too_complex', line: 1, column: 8 });
  });

  it('refuses 10 000 documents in one file after reading the first hundred', () => {
    const { error, ms } = refused('name: x\n---\n'.repeat(10_000));
    expect(error).toMatchObject({ code: 'yaml_too_complex', line: 200, column: 1 });
    expect(error?.message).toContain('more than 100 YAML documents');
    expect(ms).toBeLessThan(2000);
  });

  it('refuses 100 000 keys, in one mapping or spread over many', () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}: 1`).join('\n');
    expect(keys.length).toBeLessThan(MAX_FILE_BYTES);
    const mapping = refused(`${keys}\n`);
    expect(mapping.error).toMatchObject({ code: 'yaml_too_complex', line: 1, column: 1 });
    expect(mapping.error?.message).toContain('more than 1000 entries');
    expect(mapping.ms).toBeLessThan(2000);

    const spread = Array.from({ length: 1000 }, (_, i) =>
      [`m${i}:`, ...Array.from({ length: 100 }, (_, j) => `  ${j.toString(36)}: ${i}`)].join('\n'),
    ).join('\n');
    expect(spread.length).toBeLessThan(MAX_FILE_BYTES);
    expect(refused(`${spread}\n`).error?.message).toContain('more than 100000 YAML values');
  });

  it('refuses a file over the size bound and a scalar longer than the limit', () => {
    const padded = `${VALID}description: "${'x'.repeat(MAX_FILE_BYTES)}"\n`;
    expect(refused(padded).error?.code).toBe('file_too_large');
    const long = `${VALID}description: ${'x'.repeat(DEFAULT_YAML_LIMITS.maxScalarLength + 1)}\n`;
    expect(refused(long).error).toMatchObject({ code: 'yaml_too_complex', line: 9, column: 14 });
  });

  it('takes smaller limits from its input', () => {
    const out = parseComponentFile({
      path: 'component.yaml',
      content: Buffer.from(`${VALID}---\n${VALID.replace('aws-rds', 'aws-rds-2')}`),
      repository: REPO,
      commit: null,
      limits: { ...DEFAULT_YAML_LIMITS, maxDocuments: 1 },
    });
    expect(out.errors[0]?.code).toBe('yaml_too_complex');
  });
});

describe('paths', () => {
  it('splits field paths into YAML path segments', () => {
    expect(fieldPath('required_inputs[0].type')).toEqual(['required_inputs', 0, 'type']);
    expect(fieldPath('labels.team')).toEqual(['labels', 'team']);
  });

  it('accepts ordinary paths and rejects escapes', () => {
    expect(pathProblem('aws/rds/component.yaml')).toBeNull();
    for (const bad of ['', '/x', 'a//b', './a', 'a/./b', 'a/..', '..', 'a\\b']) expect(pathProblem(bad)).not.toBeNull();
  });
});
