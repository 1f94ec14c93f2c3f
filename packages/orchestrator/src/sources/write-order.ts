import type { ComponentSpec } from '@nestor/sdk';
import semver from 'semver';

/**
 * Orders a batch so that dependencies come before their dependents (Kahn's algorithm over names;
 * a cycle is broken by name order) and each name's versions ascend (so breaking-change detection
 * compares each version with its real predecessor).
 */
export function orderForWrite<T extends { parsed: { spec: ComponentSpec } }>(items: T[]): T[] {
  const byName = new Map<string, T[]>();
  for (const item of items) {
    const list = byName.get(item.parsed.spec.name) ?? [];
    list.push(item);
    byName.set(item.parsed.spec.name, list);
  }
  for (const list of byName.values())
    list.sort((a, b) => compareVersions(a.parsed.spec.version, b.parsed.spec.version));

  const dependents = new Map<string, Set<string>>();
  const indegree = new Map<string, number>();
  for (const name of byName.keys()) indegree.set(name, 0);
  for (const [name, list] of byName) {
    const deps = new Set<string>();
    for (const item of list) {
      for (const d of item.parsed.spec.dependencies) if (d.name !== name && byName.has(d.name)) deps.add(d.name);
    }
    for (const dep of deps) {
      const set = dependents.get(dep) ?? new Set<string>();
      set.add(name);
      dependents.set(dep, set);
    }
    indegree.set(name, deps.size);
  }

  const order: string[] = [];
  const ready = [...indegree].filter(([, n]) => n === 0).map(([name]) => name);
  ready.sort();
  const placed = new Set<string>();
  const remaining = [...byName.keys()].sort();
  while (order.length < byName.size) {
    const next = ready.shift() ?? remaining.find((n) => !placed.has(n));
    if (next === undefined) break;
    if (placed.has(next)) continue;
    placed.add(next);
    order.push(next);
    for (const dependent of dependents.get(next) ?? []) {
      const left = (indegree.get(dependent) ?? 0) - 1;
      indegree.set(dependent, left);
      if (left === 0 && !placed.has(dependent)) ready.push(dependent);
    }
  }
  return order.flatMap((name) => byName.get(name) ?? []);
}

function compareVersions(a: string, b: string): number {
  const va = semver.valid(a);
  const vb = semver.valid(b);
  if (va && vb) return semver.compare(va, vb);
  if (va) return -1;
  if (vb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
