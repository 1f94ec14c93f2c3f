import { describe, expect, it } from 'vitest';
import { decodeListCursor, decodeSearchCursor, listCursor, searchCursor } from './cursor.js';

describe('page cursors', () => {
  it('round-trip, and one kind is refused as the other', () => {
    expect(decodeListCursor(listCursor('aws-rds-postgres'))).toBe('aws-rds-postgres');
    expect(decodeSearchCursor(searchCursor(40))).toBe(40);
    expect(() => decodeListCursor(searchCursor(40))).toThrow(/cursor is malformed/);
    expect(() => decodeSearchCursor(listCursor('a'))).toThrow(/cursor is malformed/);
  });

  it('give the same search cursor for an offset each time, past the ones kept too', () => {
    expect(searchCursor(20)).toBe(searchCursor(20));
    for (let offset = 1; offset <= 3_000; offset++) {
      expect(decodeSearchCursor(searchCursor(offset))).toBe(offset);
      expect(searchCursor(offset)).toBe(searchCursor(offset));
    }
  });
});
