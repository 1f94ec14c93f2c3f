import { describe, expect, it } from 'vitest';
import { auditId } from './audit-records.js';

describe('auditId', () => {
  it('is the time as 15 digits then 8 hex characters, random for a new millisecond, from a refilled pool', () => {
    const start = Date.parse('2026-11-30T12:00:00.000Z');
    const ids = Array.from({ length: 3 * 1024 }, (_, i) => auditId(new Date(start + i)));
    ids.forEach((id, i) => {
      expect(id).toMatch(/^\d{15}-[0-9a-f]{8}$/);
      expect(Number(id.slice(0, 15))).toBe(start + i);
    });
    const random = ids.map((id) => id.slice(16));
    // A pool reused instead of refilled would repeat the same run of ids.
    expect(random.slice(1024, 2048).join()).not.toBe(random.slice(0, 1024).join());
    expect(random.slice(2048).join()).not.toBe(random.slice(1024, 2048).join());
    expect(new Set(random).size).toBeGreaterThan(3000);
  });

  it('sorts the ids made in one millisecond in the order they were made, and keeps each id at its time', () => {
    const at = new Date('2026-11-30T13:00:00.000Z');
    const ids = Array.from({ length: 500 }, () => auditId(at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const earlier = auditId(new Date(at.getTime() - 60_000));
    expect(earlier.startsWith(String(at.getTime() - 60_000).padStart(15, '0'))).toBe(true);
    expect(earlier < (ids[0] as string)).toBe(true);
  });
});
