import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
    expect(parse(bomb.join('\n')).errors[0]?.code).toBe('invalid_yaml');
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
