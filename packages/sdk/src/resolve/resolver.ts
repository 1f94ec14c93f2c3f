import semver from 'semver';
import { create } from '../errors/errors.js';

/** One constraint: a component name, a semver range it must satisfy, and who asked for it. */
export interface Constraint {
  name: string;
  range: string;
  /** The requester's label, or `name@version` for a dependency of a chosen version. */
  from: string;
}

/** What the resolver needs to know of one published version. */
export interface CandidateVersion {
  version: string;
  dependencies: readonly { name: string; version_range: string }[];
  deprecated?: { reason: string; at: string } | null | undefined;
  /**
   * Lifecycle states that make a version unavailable: a truthy `revoked` or `deleted` means the
   * version is never chosen (the fields arrive with the lifecycle work; absent means available).
   */
  revoked?: unknown;
  deleted?: unknown;
}

/**
 * The catalog as the resolver sees it: every version of a name, in any order; [] for an unknown
 * name. Synchronous so that the same algorithm runs over a server-side snapshot and a local mirror.
 */
export type CatalogView = (name: string) => readonly CandidateVersion[];

/** One chosen version, with every constraint that applied to it. */
export interface ResolvedComponent {
  name: string;
  version: string;
  required_by: { from: string; range: string }[];
  /** The chosen version's deprecation, when it is deprecated: chosen anyway, but flagged. */
  deprecated: { reason: string; at: string } | null;
}

/** A component on which the constraints involved admit no available version. */
export interface ResolutionConflict {
  name: string;
  constraints: { from: string; range: string }[];
  /** Every available (not revoked, not deleted) version of the name, semver-descending. */
  available: string[];
}

export interface ResolveOptions {
  includePrerelease?: boolean;
  /**
   * Most candidate versions tried before giving up with `resolution_too_complex` (conflict
   * minimisation included), so that a pathological catalog costs bounded time.
   */
  stepBudget?: number;
}

/** `POST /v1/resolve` body. */
export interface ResolveRequest {
  constraints: { name: string; range: string; from?: string }[];
  include_prerelease?: boolean;
}

/** `POST /v1/resolve` answer. */
export interface ResolveResponse {
  resolved: ResolvedComponent[];
}

export const DEFAULT_STEP_BUDGET = 200_000;
const COMPONENT = 'resolve';

class BudgetExceeded extends Error {}

interface Search {
  view: CatalogView;
  includePrerelease: boolean;
  budget: number;
  steps: number;
  /** Conflicts met on the way, by name, each constraint once. */
  conflicts: Map<string, Map<string, { from: string; range: string }>>;
  candidatesCache: Map<string, CandidateVersion[]>;
}

/** Available versions of a name, highest first. */
function available(search: Search, name: string): CandidateVersion[] {
  let list = search.candidatesCache.get(name);
  if (!list) {
    list = search
      .view(name)
      .filter((v) => !v.revoked && !v.deleted && semver.valid(v.version) !== null)
      .sort((a, b) => semver.rcompare(a.version, b.version));
    search.candidatesCache.set(name, list);
  }
  return list;
}

function satisfies(search: Search, version: string, range: string): boolean {
  // A range the catalog holds but semver cannot read admits nothing, rather than crashing a resolve.
  try {
    return semver.satisfies(version, range, { includePrerelease: search.includePrerelease });
  } catch {
    return false;
  }
}

function noteConflict(search: Search, name: string, constraints: readonly Constraint[]): void {
  let seen = search.conflicts.get(name);
  if (!seen) {
    seen = new Map();
    search.conflicts.set(name, seen);
  }
  for (const c of constraints) seen.set(`${c.from}\u0000${c.range}`, { from: c.from, range: c.range });
}

/**
 * Depth-first search over names in a fixed order (smallest undecided name first), trying each
 * name's versions highest first and undoing a choice when a later name runs out of candidates.
 * Returns the chosen versions, or null when no choice satisfies every constraint.
 */
function search(
  s: Search,
  constraints: Map<string, Constraint[]>,
  chosen: Map<string, CandidateVersion>,
): Map<string, CandidateVersion> | null {
  let next: string | null = null;
  for (const name of constraints.keys()) {
    if (!chosen.has(name) && (next === null || name < next)) next = name;
  }
  if (next === null) return chosen;
  const on = constraints.get(next) ?? [];
  const candidates = available(s, next).filter((v) => on.every((c) => satisfies(s, v.version, c.range)));
  if (candidates.length === 0) {
    noteConflict(s, next, on);
    return null;
  }
  for (const candidate of candidates) {
    if (++s.steps > s.budget) throw new BudgetExceeded();
    const from = `${next}@${candidate.version}`;
    const added: Constraint[] = [];
    let clash = false;
    for (const dep of candidate.dependencies) {
      const c: Constraint = { name: dep.name, range: dep.version_range, from };
      added.push(c);
      // A version that depends on its own name constrains itself (a catalog can hold such cycles).
      const decided = dep.name === next ? candidate : chosen.get(dep.name);
      if (decided && !satisfies(s, decided.version, dep.version_range)) {
        noteConflict(s, dep.name, [...(constraints.get(dep.name) ?? []), c]);
        clash = true;
      }
    }
    if (clash) continue;
    for (const c of added) {
      const list = constraints.get(c.name);
      if (list) list.push(c);
      else constraints.set(c.name, [c]);
    }
    chosen.set(next, candidate);
    const found = search(s, constraints, chosen);
    if (found) return found;
    chosen.delete(next);
    for (const c of added) {
      const list = constraints.get(c.name);
      if (!list) continue;
      list.pop();
      if (list.length === 0) constraints.delete(c.name);
    }
  }
  return null;
}

function attempt(s: Search, request: readonly Constraint[]): Map<string, CandidateVersion> | null {
  const constraints = new Map<string, Constraint[]>();
  for (const c of request) {
    const list = constraints.get(c.name);
    if (list) list.push({ ...c });
    else constraints.set(c.name, [{ ...c }]);
  }
  return search(s, constraints, new Map());
}

/**
 * Resolves the closure of `request`: one version per component, the highest that satisfies every
 * constraint on it (from the request and from the chosen versions' own dependencies), backtracking
 * when a choice fails. Revoked and deleted versions are never chosen; deprecated ones are, flagged.
 *
 * The answer is in dependency order (dependencies first), ties and cycles broken by name.
 * Throws `resolution_failed` with `conflicts` for a minimal set of request constraints that cannot
 * be met together, and `resolution_too_complex` when the step budget runs out. Ranges are expected
 * to be valid (the caller checks them and answers `invalid_range`).
 */
export function resolveConstraints(
  request: readonly Constraint[],
  view: CatalogView,
  opts: ResolveOptions = {},
): ResolvedComponent[] {
  const s: Search = {
    view,
    includePrerelease: opts.includePrerelease ?? false,
    budget: opts.stepBudget ?? DEFAULT_STEP_BUDGET,
    steps: 0,
    conflicts: new Map(),
    candidatesCache: new Map(),
  };
  try {
    const chosen = attempt(s, request);
    if (chosen) return order(request, chosen);
    throw failure(s, minimise(s, request));
  } catch (err) {
    if (err instanceof BudgetExceeded) {
      throw create('resolution_too_complex')
        .component(COMPONENT)
        .operation('Resolve')
        .message(`resolution gave up after trying ${s.budget} candidate versions; narrow the constraints`)
        .detail('step_budget', s.budget)
        .build();
    }
    throw err;
  }
}

/**
 * Drops request constraints one by one while the rest still fails, so that the explanation names
 * only constraints that matter (deletion-based: each remaining one is needed for the failure).
 * Returns the conflicts met while resolving that minimal set.
 */
function minimise(s: Search, request: readonly Constraint[]): { kept: Constraint[]; search: Search } {
  let kept = [...request];
  for (let i = kept.length - 1; i >= 0; i--) {
    const without = kept.filter((_, j) => j !== i);
    const probe: Search = { ...s, conflicts: new Map() };
    const solved = attempt(probe, without);
    s.steps = probe.steps;
    if (!solved) kept = without;
  }
  const final: Search = { ...s, conflicts: new Map() };
  attempt(final, kept);
  s.steps = final.steps;
  return { kept, search: final };
}

function failure(s: Search, minimal: { kept: Constraint[]; search: Search }) {
  const conflicts: ResolutionConflict[] = [...minimal.search.conflicts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, constraints]) => ({
      name,
      constraints: [...constraints.values()].sort(byFromThenRange),
      available: available(s, name).map((v) => v.version),
    }));
  const names = conflicts.map((c) => c.name).join(', ');
  const first = conflicts[0];
  const message =
    conflicts.length === 1 && first
      ? `no available version of ${first.name} satisfies ${first.constraints
          .map((c) => `${c.range} (from ${c.from})`)
          .join(' and ')}`
      : `no combination of versions satisfies the constraints; conflicts on ${names}`;
  return create('resolution_failed')
    .component(COMPONENT)
    .operation('Resolve')
    .message(message)
    .detail(
      'constraints',
      minimal.kept.map((c) => ({ name: c.name, range: c.range, from: c.from })),
    )
    .extension('conflicts', conflicts)
    .build();
}

function byFromThenRange(a: { from: string; range: string }, b: { from: string; range: string }): number {
  if (a.from !== b.from) return a.from < b.from ? -1 : 1;
  return a.range < b.range ? -1 : a.range > b.range ? 1 : 0;
}

/** Dependencies first (Kahn's algorithm), ties by name; a cycle is entered at its smallest name. */
function order(request: readonly Constraint[], chosen: Map<string, CandidateVersion>): ResolvedComponent[] {
  const requiredBy = new Map<string, { from: string; range: string }[]>();
  const push = (name: string, c: { from: string; range: string }) => {
    const list = requiredBy.get(name);
    if (list) list.push(c);
    else requiredBy.set(name, [c]);
  };
  for (const c of request) push(c.name, { from: c.from, range: c.range });
  const pending = new Map<string, Set<string>>();
  for (const [name, v] of chosen) {
    const deps = new Set<string>();
    for (const d of v.dependencies) {
      push(d.name, { from: `${name}@${v.version}`, range: d.version_range });
      if (d.name !== name) deps.add(d.name);
    }
    pending.set(name, deps);
  }
  const out: ResolvedComponent[] = [];
  const done = new Set<string>();
  while (pending.size > 0) {
    let ready = [...pending.entries()].filter(([, deps]) => [...deps].every((d) => done.has(d))).map(([n]) => n);
    if (ready.length === 0) ready = [...pending.keys()];
    ready.sort();
    const name = ready[0] as string;
    const v = chosen.get(name) as CandidateVersion;
    out.push({
      name,
      version: v.version,
      required_by: requiredBy.get(name) ?? [],
      deprecated: v.deprecated ?? null,
    });
    done.add(name);
    pending.delete(name);
  }
  return out;
}
