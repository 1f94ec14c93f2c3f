import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDir } from './fs-utils.js';

describe('ensureDir', () => {
  it('creates missing parents and accepts an existing folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'nestor-fs-'));
    const deep = join(root, 'a', 'b', 'c');
    ensureDir(deep);
    ensureDir(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    rmSync(root, { recursive: true, force: true });
  });

  it('fails at once where a folder can never be created, instead of hanging', () => {
    expect(() => ensureDir('/proc/nestor-cannot-exist/x')).toThrow();
  });

  it('refuses a path through a file', () => {
    const root = mkdtempSync(join(tmpdir(), 'nestor-fs-'));
    writeFileSync(join(root, 'file'), 'x');
    expect(() => ensureDir(join(root, 'file', 'sub'))).toThrow(/ENOTDIR/);
    rmSync(root, { recursive: true, force: true });
  });
});
