import { describe, expect, it } from 'vitest';
import { pickLatest, takesLatest } from './latest-rule.js';

const v = (version: string) => ({ version });

describe('latest rule', () => {
  it('picks the highest stable version, or the highest of all with prereleases', () => {
    const descending = [v('2.0.0-rc.1'), v('1.2.0'), v('1.1.0-beta'), v('1.0.0')];
    expect(pickLatest(descending, false)?.version).toBe('1.2.0');
    expect(pickLatest(descending, true)?.version).toBe('2.0.0-rc.1');
  });

  it('picks the highest prerelease when a name has only prereleases', () => {
    expect(pickLatest([v('1.0.0-rc.2'), v('1.0.0-rc.1')], false)?.version).toBe('1.0.0-rc.2');
    expect(pickLatest([], false)).toBeNull();
  });

  it('decides an insert the way the picks over all versions do', () => {
    // A release takes the default pick from any prerelease, even a higher one.
    expect(takesLatest(v('1.0.0'), { prerelease: true }, false, false)).toBe(true);
    // A prerelease never takes it from a release, only from a lower prerelease.
    expect(takesLatest(v('2.0.0-rc.1'), { prerelease: false }, true, false)).toBe(false);
    expect(takesLatest(v('2.0.0-rc.2'), { prerelease: true }, true, false)).toBe(true);
    expect(takesLatest(v('1.0.0'), { prerelease: false }, false, false)).toBe(false);
    // With prereleases, the higher version wins whatever it is.
    expect(takesLatest(v('2.0.0-rc.1'), { prerelease: false }, true, true)).toBe(true);
    expect(takesLatest(v('1.0.0'), { prerelease: true }, false, true)).toBe(false);
    expect(takesLatest(v('0.1.0-alpha'), null, false, false)).toBe(true);
  });

  it('never picks a revoked or deleted version, falling back as if it did not exist', () => {
    const revoked = { version: '1.2.0', revoked: { reason: 'cve', at: 't' } };
    const deleted = { version: '1.1.0', deleted: { reason: null, at: 't', purged_at: null } };
    expect(pickLatest([v('2.0.0-rc.1'), revoked, deleted, v('1.0.0')], false)?.version).toBe('1.0.0');
    // Only a prerelease is left eligible: it is the latest, as for a name with only prereleases.
    expect(pickLatest([v('2.0.0-rc.1'), revoked], false)?.version).toBe('2.0.0-rc.1');
    expect(pickLatest([revoked, deleted], true)).toBeNull();
    expect(takesLatest(revoked, null, false, false)).toBe(false);
  });
});
