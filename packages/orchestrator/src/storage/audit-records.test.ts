import { describe, expect, it } from 'vitest';
import { auditId } from './audit-records.js';

describe('auditId', () => {
  it('is the time as 15 digits then 8 random hex characters, with fresh randomness after each pool', () => {
    const at = new Date('2026-11-30T12:00:00.000Z');
    const ids = Array.from({ length: 3 * 1024 }, () => auditId(at));
    for (const id of ids) expect(id).toMatch(/^001796040000000-[0-9a-f]{8}$/);
    const random = ids.map((id) => id.slice(16));
    // A pool reused instead of refilled would repeat the same run of ids.
    expect(random.slice(1024, 2048).join()).not.toBe(random.slice(0, 1024).join());
    expect(random.slice(2048).join()).not.toBe(random.slice(1024, 2048).join());
    expect(auditId(new Date(at.getTime() + 1)) > ids[0]!).toBe(true);
  });
});
