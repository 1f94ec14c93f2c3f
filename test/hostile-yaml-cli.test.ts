import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/orchestrator/src/config/load.js';
import { runCli as cli } from './cli-support.js';
import { componentYaml } from './git-helpers.js';

/** The 6 KB text that used to abort the process on its second parse. */
const HOSTILE = `a: ${'['.repeat(3000)}${']'.repeat(3000)}\n`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nestor-hostile-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

describe('nestor validate on hostile YAML', () => {
  it('reports the nesting file as yaml_too_complex, every time, beside a valid file, and exits 2 (a file error)', async () => {
    const a = file('a/component.yaml', HOSTILE);
    const b = file('b/component.yaml', HOSTILE);
    const good = file('good/component.yaml', componentYaml({ name: 'cli-good', deployment_engines: [] }));
    const { code, out } = await cli(['validate', a, b, good, a]);
    expect(code).toBe(2);
    expect(out.match(/yaml_too_complex {2}file refused: YAML nests deeper than 64 levels/g)).toHaveLength(3);
    expect(out).toContain(`${a}:1:68`);
    expect(out).toContain('✔ cli-good@1.0.0');
  });

  it('refuses a file over the size bound without reading it', async () => {
    const big = file('big/component.yaml', '');
    // A sparse 2 GiB file: reading it whole would exhaust memory.
    truncateSync(big, 2 * 1024 ** 3);
    const { code, out } = await cli(['validate', '--format', 'json', big]);
    expect(code).toBe(2);
    const report = JSON.parse(out) as { files: { errors: { code: string; message: string }[] }[] };
    expect(report.files[0]?.errors[0]).toMatchObject({ code: 'file_too_large' });
  });
});

describe('a hostile config file', () => {
  const load = (path: string) => () => loadConfig({ config: path }, {});

  it.each([
    ['flow nesting', `server: ${'['.repeat(3000)}${']'.repeat(3000)}\n`, 'deeper than 64 levels'],
    ['block nesting', `${'- '.repeat(5000)}x\n`, 'deeper than 64 levels'],
    [
      'a billion laughs',
      `${[
        'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]',
        ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`),
      ].join('\n')}\n`,
      'aliases expanded',
    ],
    ['100 000 keys', `${Array.from({ length: 100_000 }, (_, i) => `k${i}: 1`).join('\n')}\n`, 'more than 1000 entries'],
    ['10 000 documents', 'server: {}\n---\n'.repeat(10_000), 'more than 100 YAML documents'],
  ])('%s is an invalid_request naming the limit, twice in a row', (_name, text, reason) => {
    const path = file(`config-${_name.replace(/\W+/g, '-')}.yaml`, text);
    for (let i = 0; i < 2; i++) {
      expect(load(path)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
      expect(load(path)).toThrow(reason);
    }
  });

  it('refuses a config file over 1 MiB and one with two documents', () => {
    const big = file('big.yaml', '');
    truncateSync(big, 2 * 1024 * 1024);
    expect(load(big)).toThrow('the limit is 1048576 bytes');
    expect(load(file('two.yaml', 'server: {}\n---\nstore: {}\n'))).toThrow('must hold one YAML document');
  });

  it('still reads an ordinary config file, and reports bad YAML with its line', () => {
    const ok = file('ok.yaml', 'server: { port: 18100 }\nstore: { type: memory }\n');
    expect(loadConfig({ config: ok }, {}).server.port).toBe(18100);
    expect(load(file('bad.yaml', 'server:\n  port: [1\n'))).toThrow(/not valid YAML: .* at line \d+, column \d+/);
  });

  it('nestor serve exits 2 with one line on the nesting config', async () => {
    const path = file('serve.yaml', `server: ${'['.repeat(3000)}${']'.repeat(3000)}\n`);
    for (let i = 0; i < 2; i++) {
      const { code, err } = await cli(['serve', '--config', path, '--store', 'memory', '--no-examples']);
      expect(code).toBe(2);
      expect(err).toContain('deeper than 64 levels');
    }
  });
});
