import { describe, expect, it } from 'vitest';
import { layoutGraph } from './graph-layout.js';

const node = (id: string) => ({ id, name: id, version: '1.0.0' });

describe('layered graph layout', () => {
  it('puts dependents left of the component and dependencies right, without overlaps', () => {
    const layout = layoutGraph(['app', 'focus', 'vpc', 'iam', 'kms'].map(node), [
      { from: 'app', to: 'focus' },
      { from: 'focus', to: 'vpc' },
      { from: 'focus', to: 'iam' },
      { from: 'iam', to: 'kms' },
      { from: 'vpc', to: 'kms' },
    ]);
    const at = new Map(layout.nodes.map((n) => [n.id, n]));
    const layer = (id: string) => at.get(id)?.layer;
    expect([layer('app'), layer('focus'), layer('vpc'), layer('iam'), layer('kms')]).toEqual([0, 1, 2, 2, 3]);
    for (const a of layout.nodes) {
      for (const b of layout.nodes) {
        if (a === b) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.id} overlaps ${b.id}`).toBe(true);
      }
    }
    expect(layout.edges).toHaveLength(5);
    // Every edge runs left to right, from the right side of one box to the left side of the next.
    for (const e of layout.edges) expect(e.points[2]).toBeGreaterThan(e.points[0]);
    expect(layout.width).toBeGreaterThan(0);
  });

  it('ends on a cycle and ignores edges to unknown nodes', () => {
    const layout = layoutGraph(['a', 'b'].map(node), [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
      { from: 'a', to: 'ghost' },
    ]);
    expect(layout.nodes).toHaveLength(2);
    expect(layout.edges.length).toBe(2);
  });
});
