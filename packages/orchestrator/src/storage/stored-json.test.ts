import type { ComponentDefinition } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { newDefinition, withLifecycle } from './records.js';
import { fromDefinition, storedJson } from './stored-json.js';
import { makeComponent } from './testing.js';

const stored = (over: Partial<ComponentDefinition> = {}): ComponentDefinition => ({
  ...newDefinition(makeComponent({ labels: { '"revision": 9,': '}{"deleted":{}' } }), '2026-01-01T00:00:00.000Z', 7),
  ...over,
});

describe('storedJson', () => {
  it('passes current text through untouched, reading digest, revision and deletion from the top level', () => {
    const c = stored({ deprecated: { reason: 'x "revision": 1', at: '2026-01-02T00:00:00.000Z' } });
    const json = JSON.stringify(c);
    const out = storedJson(json);
    expect(out.json).toBe(json);
    expect(out).toEqual({ json, digest: c.digest, revision: 7, deleted: null });
    const deleted = stored({ deleted: { reason: null, at: '2026-01-03T00:00:00.000Z', purged_at: null } });
    expect(storedJson(JSON.stringify(deleted)).deleted).toEqual({ purged: false });
    const purged = stored({ deleted: { reason: 'r', at: 'a', purged_at: '2026-01-04T00:00:00.000Z' } });
    expect(storedJson(JSON.stringify(purged)).deleted).toEqual({ purged: true });
  });

  it('reads text with whitespace and another key order (PostgreSQL jsonb output)', () => {
    const c = stored();
    const spaced = JSON.stringify(Object.fromEntries(Object.entries(c).reverse()), null, 1);
    const out = storedJson(spaced);
    expect(out.json).toBe(spaced);
    expect(out.revision).toBe(7);
    expect(out.digest).toBe(c.digest);
  });

  it('rewrites an old-shaped row (no revoked or orphaned, deleted null) as the parsed read shows it', () => {
    const { revoked: _r, orphaned: _o, ...old } = stored();
    for (const text of [JSON.stringify(old), JSON.stringify({ ...stored(), deleted: null })]) {
      const out = storedJson(text);
      expect(out).toEqual(fromDefinition(withLifecycle(JSON.parse(text) as ComponentDefinition)));
      expect(JSON.parse(out.json)).toMatchObject({ revoked: null, orphaned: null });
      expect(JSON.parse(out.json)).not.toHaveProperty('deleted');
    }
  });

  it('equals the parsed path for every shape of value, escapes included', () => {
    const c = stored({
      annotations: { 'back\\slash': 'quote " and \\" and \\\\', unicode: 'é 東京 🚀', empty: '' },
      labels: {},
    });
    const json = JSON.stringify(c);
    expect(storedJson(json)).toEqual(fromDefinition(c));
  });
});
