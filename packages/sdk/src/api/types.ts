import type { ComponentDefinition, ScoredComponent } from '../models/component.js';
import type { DeploymentEngine } from '../models/engine.js';
import type { SourceStatus } from '../models/source.js';
import type { ImpactItem, ValidationResult, VersionChange } from '../models/validation.js';
import type { Bump } from '../models/version.js';

/** Every list answer: a page of items and the cursor of the next page (null on the last). */
export interface ListResponse<T> {
  items: T[];
  next_cursor: string | null;
  /**
   * Number of matches over the whole filtered result (design 10.1). Servers that predate facets
   * leave it out.
   */
  total?: number;
  /** Counts per requested facet over the whole filtered result, most frequent first (design 10.1). */
  facets?: Partial<Record<FacetName, FacetCount[]>>;
}

/** Facets a list or search can count (`facets=`); `label` values are `key=value`. */
export const FACET_NAMES = [
  'provider',
  'category',
  'resource_type',
  'engine',
  'maturity',
  'support_level',
  'label',
] as const;
export type FacetName = (typeof FACET_NAMES)[number];

/** One value of a facet and how many matches carry it. */
export interface FacetCount {
  value: string;
  count: number;
}

/** Order of a list or search: search defaults to `relevance`, the list to `name`. */
export type SortOrder = 'relevance' | 'name' | 'updated';

export type ComponentList = ListResponse<ComponentDefinition>;
export type SearchResults = ListResponse<ScoredComponent>;

/** `GET /v1/components/{name}/versions/{version}/dependencies`. */
export interface DependenciesResponse {
  items: { name: string; version_range: string; resolved: ComponentDefinition | null }[];
}

/** `GET /v1/components/{name}/dependents`: one entry per depending (component, version). */
export interface DependentsResponse {
  items: { name: string; version: string; version_range: string }[];
}

/** `POST /v1/validate` with `{ components: [...] }`. */
export interface BatchValidationResponse {
  results: ValidationResult[];
}

export interface EngineList {
  items: DeploymentEngine[];
}

export interface SourceList {
  items: SourceStatus[];
}

/** `GET /version`. */
export interface VersionInfo {
  version: string;
  commit: string;
  build_date: string;
  node: string;
}

/** Filters of `GET /v1/components` and search. */
export interface ListOptions {
  provider?: string;
  category?: string;
  resource_type?: string;
  engine?: string;
  maturity?: string;
  support_level?: string;
  /** `key=value` pairs, all of which must match. */
  labels?: Record<string, string>;
  include_prerelease?: boolean;
  limit?: number;
  cursor?: string;
  /** Facets to count over the whole filtered result (answered in `facets`, with `total`). */
  facets?: readonly FacetName[];
  sort?: SortOrder;
}

/** A read answer together with the catalog revision it was served at. */
export interface WithRevision<T> {
  value: T;
  revision: number;
}

/** `GET /v1/components/{name}/versions/{version}/impact`. */
export interface VersionImpact {
  name: string;
  version: string;
  /** Dependents whose range admits the version; `selected` when it is their highest match today. */
  items: (ImpactItem & { selected: boolean })[];
}

/** `GET /v1/components/{name}/impact?proposed=`. */
export interface ProposedImpact {
  name: string;
  proposed: string;
  accepted: ImpactItem[];
  rejected: ImpactItem[];
}

/** `GET /v1/components/{name}/diff?from=&to=`. */
export interface VersionDiff {
  name: string;
  from: string;
  to: string;
  required_bump: Bump;
  bump_made: Bump;
  changes: VersionChange[];
}
