import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fileError, isSourceFileErrorCode, SOURCE_FILE_ERRORS } from './file-errors.js';

describe('per-file source error codes', () => {
  it('docs/sources.md lists exactly the codes of the table, in its order', () => {
    const doc = readFileSync(new URL('../../../../docs/sources.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('| per-file code | meaning |'));
    const rows = table.slice(0, table.indexOf('\n\n'));
    const documented = [...rows.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(SOURCE_FILE_ERRORS));
  });

  it('codes are snake_case and each has a meaning', () => {
    for (const [code, meaning] of Object.entries(SOURCE_FILE_ERRORS)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(meaning.length).toBeGreaterThan(0);
    }
  });

  it('recognises table codes only', () => {
    expect(isSourceFileErrorCode('file_unreadable')).toBe(true);
    expect(isSourceFileErrorCode('unreadable_file')).toBe(false);
    expect(isSourceFileErrorCode('toString')).toBe(false);
    expect(fileError('a.yaml', 'invalid_yaml', 'bad', { line: 2, column: 3 })).toEqual({
      path: 'a.yaml',
      line: 2,
      column: 3,
      code: 'invalid_yaml',
      message: 'bad',
    });
  });
});
