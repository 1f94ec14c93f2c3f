import type { EventType } from '../events/types.js';
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

/** Fields a list or search can be faceted by (`facets=`), and filtered by as a qualifier. */
export const FACET_NAMES = [
  'provider',
  'category',
  'resource_type',
  'engine',
  'maturity',
  'support_level',
  'label',
] as const;
export type SearchFacet = (typeof FACET_NAMES)[number];
/** The same as `SearchFacet` (the browser's name for it). */
export type FacetName = SearchFacet;

/** One value of a facet and how many results hold it (labels as `key=value`). */
export interface FacetCount {
  value: string;
  count: number;
}

/** Order of a list or search: `relevance` (search default), `name` (list default), `updated` (newest first). */
export type SearchSort = 'relevance' | 'name' | 'updated';
/** The same as `SearchSort`. */
export type SortOrder = SearchSort;

/** A page of `GET /v1/components` or its search: the items, the exact total, and the facets asked for. */
export interface ResultPage<T> extends ListResponse<T> {
  /** Number of results over every page. */
  total: number;
  /** Per facet asked for: its values over the whole filtered result, most frequent first. */
  facets?: Partial<Record<SearchFacet, FacetCount[]>>;
}

export type ComponentList = ResultPage<ComponentDefinition>;
export type SearchResults = ResultPage<ScoredComponent>;

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
  /** Only components whose listed version is orphaned (its file left its source). */
  orphaned?: boolean;
  limit?: number;
  cursor?: string;
  /** Facets to count over the whole filtered result; the answer's `facets` holds them. */
  facets?: readonly SearchFacet[];
  /** Values per facet, most frequent first (server default 100). */
  facet_limit?: number;
  /** Order of the results (list default `name`, search default `relevance`). */
  sort?: SearchSort;
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

/** Scopes a token may carry: `admin` implies the others; `provenance` lets a write set `git_*` fields. */
export type TokenScope = 'read' | 'write' | 'admin' | 'provenance';

/** `POST /v1/tokens` body. */
export interface TokenRequest {
  /** 1–63 characters, lowercase letters, digits and hyphens; unique among stored tokens. */
  name: string;
  scopes: TokenScope[];
  /** Glob patterns (`aws-*`) of the component names the token may publish or patch; absent: any. */
  names?: string[];
  /** Lifetime as a duration (`90d`, `12h`, `30m`) or seconds; absent: the token does not expire. */
  expires_in?: string | number;
}

/** A stored token as `GET /v1/tokens` lists it; the secret is never shown again. */
export interface TokenInfo {
  /** Stable id, also the part of the token after `nst_` and before the secret. */
  id: string;
  name: string;
  /** The token's recognisable start (`nst_<id>`), to find it in a secret store. */
  prefix: string;
  scopes: TokenScope[];
  /** Patterns limiting the component names it may publish; [] means any. */
  names: string[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

/** `POST /v1/tokens` answer: the only time `token` is shown. */
export interface CreatedToken {
  id: string;
  token: string;
  name: string;
  scopes: TokenScope[];
  names: string[];
  created_at: string;
  expires_at: string | null;
}

export interface TokenList {
  items: TokenInfo[];
}

/** What became of one member of a changeset. */
export interface ChangesetItem {
  name: string;
  version: string;
  /** `unchanged`: published already with the same content; nothing was written for it. */
  status: 'created' | 'unchanged';
}

/** `POST /v1/changesets`: the written set (DESIGN.md 10.4). */
export interface ChangesetResult {
  /** Null when every member was published already (nothing written). */
  id: string | null;
  /** Sequence of the set's last event (the catalog revision when nothing was written). */
  revision: number;
  items: ChangesetItem[];
}

/** `POST /v1/changesets?dry_run=true`: the verdict on the set, nothing written. */
export interface ChangesetDryRun {
  valid: boolean;
  /** One per member, in the order given. */
  results: ValidationResult[];
  /** Per member: how many existing dependents' ranges accept its new version and how many do not. */
  impact: { name: string; version: string; accepted: number; rejected: number }[];
}

/** `GET /v1/changesets/{id}`. */
export interface ChangesetRecord {
  id: string;
  time: string;
  actor: string;
  message: string | null;
  revision: number;
  items: ChangesetItem[];
}

/** What a webhook subscription's events must match (each absent or null field matches anything). */
export interface SubscriptionFilterInput {
  name?: string | null;
  provider?: string | null;
  category?: string | null;
}

/** `POST /v1/subscriptions` body. */
export interface SubscriptionRequest {
  /** http(s) URL the events are POSTed to; internal addresses are refused unless in `webhooks.allow_hosts`. */
  url: string;
  /** Event types to deliver; absent or []: every type. */
  types?: EventType[];
  filter?: SubscriptionFilterInput;
}

/** A webhook subscription as `GET /v1/subscriptions` shows it; the secret is never shown again. */
export interface SubscriptionInfo {
  id: string;
  url: string;
  types: EventType[];
  filter: { name: string | null; provider: string | null; category: string | null };
  created_at: string;
  /** `disabled` after its deliveries failed for `webhooks.retry_for` (24 h). */
  state: 'active' | 'disabled';
  disabled_reason: string | null;
}

/** `POST /v1/subscriptions` answer: the only time `secret` (`whsec_...`) is shown. */
export interface CreatedSubscription extends SubscriptionInfo {
  secret: string;
}

export interface SubscriptionList {
  items: SubscriptionInfo[];
}

/** One line of a subscription's delivery log: the latest attempt at one event. */
export interface DeliveryInfo {
  event_id: number;
  attempt: number;
  /** `pending`: will be retried; `delivered`: the receiver answered 2xx; `failed`: given up. */
  status: 'pending' | 'delivered' | 'failed';
  /** The receiver's HTTP status; null when no answer came (timeout, connection refused, address refused). */
  response_status: number | null;
  time: string;
}

export interface DeliveryList {
  items: DeliveryInfo[];
}
