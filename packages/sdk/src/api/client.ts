import { NestorError } from '../errors/errors.js';
import { fromProblem } from '../errors/http.js';
import type {
  ComponentDefinition,
  ComponentPatch,
  ComponentSpec,
  ComponentSpecInput,
  ScoredComponent,
} from '../models/component.js';
import type { DeploymentEngine } from '../models/engine.js';
import type { SourceStatus } from '../models/source.js';
import type { ValidationResult } from '../models/validation.js';
import type { VersionHistory } from '../models/version.js';
import type { ResolvedComponent, ResolveRequest, ResolveResponse } from '../resolve/resolver.js';
import { globalFetch } from './global-fetch.js';
import type {
  BatchValidationResponse,
  ChangesetDryRun,
  ChangesetRecord,
  ChangesetResult,
  CreatedSubscription,
  CreatedToken,
  DeliveryInfo,
  DeliveryList,
  DependenciesResponse,
  DependentsResponse,
  EngineList,
  ListOptions,
  ProposedImpact,
  ResultPage,
  SourceList,
  SubscriptionInfo,
  SubscriptionList,
  SubscriptionRequest,
  TokenInfo,
  TokenList,
  TokenRequest,
  VersionDiff,
  VersionImpact,
  VersionInfo,
} from './types.js';

/** Options of a {@link NestorClient}. */
export interface NestorClientOptions {
  /** Where the orchestrator listens, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  baseUrl: string;
  /** Bearer token; reads are anonymous without one unless the server requires it. */
  token?: string | undefined;
  /** A fetch implementation (defaults to the global one), for proxies, retries or tests. */
  fetch?: typeof fetch | undefined;
  /** Limit of one request, body included, in milliseconds (default 30 000). */
  timeoutMs?: number | undefined;
  /** `User-Agent` header (default `nestor-sdk`). */
  userAgent?: string | undefined;
}

/** Per-call options. */
export interface RequestOptions {
  /** Aborts the call; the abort reason is thrown as is. */
  signal?: AbortSignal | undefined;
}

/** A page of a list or search, with its total, its facets and the catalog revision it was served at. */
export interface RevisionedPage<T> extends ResultPage<T> {
  /** `X-Catalog-Revision` of the answer; null when the server did not send one. */
  revision: number | null;
}

/** Filters of a search: the list filters and the query text. */
export type SearchOptions = ListOptions;

/** `getComponentVersion`'s answer: the version, or "not modified" when the given ETag still matches. */
export type VersionRead =
  | { notModified: false; component: ComponentDefinition; etag: string | null; revision: number | null }
  | { notModified: true; component: null; etag: string | null; revision: number | null };

/** The outcome of a create: the stored version, and whether this call created it (201) or it existed (200). */
export interface CreateResult {
  component: ComponentDefinition;
  created: boolean;
  revision: number | null;
}

/** One health probe of an engine, as `GET /v1/engines/{name}` lists them. */
export interface EngineProbe {
  at: string;
  ok: boolean;
  status: number | null;
  latency_ms: number;
  failure: string | null;
  message: string;
}

/** `GET /v1/engines/{name}`: the engine with its recent probes, oldest first. */
export interface EngineDetail extends DeploymentEngine {
  history: EngineProbe[];
}

/**
 * `POST /v1/engines`: the same fields as an engine in the config file. Durations are `500ms`,
 * `30s`, `5m`, `1h` or a number of seconds.
 */
export interface EngineRegistration {
  name: string;
  type: DeploymentEngine['type'];
  endpoint?: string | null;
  health_path?: string | null;
  interval?: string | number;
  timeout?: string | number;
  failure_threshold?: number;
  success_threshold?: number;
  labels?: Record<string, string>;
}

/** `POST /v1/sources/{name}/sync`: the sync was queued (or joined one already queued). */
export interface SyncAccepted {
  status: string;
  source: string;
  /** True when a sync was already running and this request joined the follow-up sync. */
  coalesced: boolean;
  /** True when the sync may orphan past the source's `max_orphan_ratio` (absent from older servers). */
  confirm_removals?: boolean;
}

/** `GET /healthz`. */
export interface HealthStatus {
  status: string;
}

/** `GET /readyz`: overall readiness and each check (`ok`, `degraded` or `failed`). */
export interface ReadinessStatus {
  /** True on 200, false on 503. */
  ready: boolean;
  status: string;
  checks: Record<string, { status: string; message?: string }>;
}

/** What `validate` and `createComponent` accept: a submitted spec, normalised or not. */
export type SpecBody = ComponentSpecInput | ComponentSpec;

/** Largest batch the server validates in one request; bigger batches are split. */
export const VALIDATE_BATCH_LIMIT = 500;
const DEFAULT_TIMEOUT_MS = 30_000;
const COMPONENT = 'sdk';
/** Spec fields a server rejects when null: the git fields are absent rather than null in a body. */
const NULLABLE_SPEC_FIELDS = ['git_repository', 'git_commit', 'git_path'] as const;

/** Options of `updateComponent`. */
export interface UpdateOptions extends RequestOptions {
  /** ETag of the version as last read: the update applies only while it is still current (412 otherwise). */
  ifMatch?: string | undefined;
}

interface CallOptions extends RequestOptions {
  method?: string;
  query?: URLSearchParams | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  /** Non-2xx statuses that are answers rather than errors (304, a 503 of `/readyz`). */
  answers?: number[];
}

interface RawResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * Typed client of the orchestrator's HTTP API (`/v1`, design section 8). Every method throws a
 * {@link NestorError}: the server's own error rebuilt from its problem body (so `err.code` reads
 * `component_not_found`, `validation_failed`, ...), `timeout` when the call exceeded `timeoutMs`,
 * or `service_unavailable` when the server could not be reached (the cause is attached).
 */
export class NestorClient {
  private readonly base: URL;
  private readonly token: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(opts: NestorClientOptions) {
    let base: URL;
    try {
      base = new URL(opts.baseUrl);
    } catch (err) {
      throw new NestorError('invalid_request', `baseUrl "${opts.baseUrl}" is not a URL`, {
        component: COMPONENT,
        operation: 'NewClient',
        cause: err,
      });
    }
    if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
    this.base = base;
    this.token = opts.token || undefined;
    this.fetchImpl = opts.fetch ?? globalFetch;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.userAgent = opts.userAgent ?? 'nestor-sdk';
  }

  /**
   * One page of `GET /v1/components`: each component at its latest version, filtered. Pass
   * `next_cursor` back as `cursor` for the next page; `revision` is where to start watching events.
   */
  async listComponents(opts: ListOptions = {}, req: RequestOptions = {}): Promise<RevisionedPage<ComponentDefinition>> {
    const res = await this.call<ResultPage<ComponentDefinition>>('v1/components', {
      ...req,
      query: listQuery(opts),
    });
    return pageOf(res.body, res.headers);
  }

  /** Every page of `GET /v1/components`, following `next_cursor` until the last page. */
  async *listAllComponents(
    opts: Omit<ListOptions, 'cursor'> = {},
    req: RequestOptions = {},
  ): AsyncGenerator<RevisionedPage<ComponentDefinition>, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.listComponents({ ...opts, cursor }, req);
      yield page;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * `GET /v1/components/search?q=`: ranked search (docs/search.md). Words match as prefixes and,
   * from five letters, with one typo; `provider:aws label:team=data` and the like filter.
   */
  async searchComponents(
    q: string,
    opts: SearchOptions = {},
    req: RequestOptions = {},
  ): Promise<RevisionedPage<ScoredComponent>> {
    const query = listQuery(opts);
    query.set('q', q);
    const res = await this.call<ResultPage<ScoredComponent>>('v1/components/search', { ...req, query });
    return pageOf(res.body, res.headers);
  }

  /**
   * The latest version of a component: the highest stable one (prereleases count with
   * `include_prerelease`). Throws `component_not_found`.
   */
  async getComponent(
    name: string,
    opts: { include_prerelease?: boolean } = {},
    req: RequestOptions = {},
  ): Promise<ComponentDefinition> {
    const query = new URLSearchParams();
    if (opts.include_prerelease !== undefined) query.set('include_prerelease', String(opts.include_prerelease));
    return (await this.call<ComponentDefinition>(`v1/components/${seg(name)}`, { ...req, query })).body;
  }

  /**
   * One exact version. With `etag` (from an earlier read) the server answers 304 when nothing
   * changed, and this returns `{ notModified: true }` without a body. Throws `component_not_found`.
   */
  async getComponentVersion(
    name: string,
    version: string,
    opts: { etag?: string | undefined } = {},
    req: RequestOptions = {},
  ): Promise<VersionRead> {
    const headers: Record<string, string> = {};
    if (opts.etag) headers['if-none-match'] = opts.etag;
    const res = await this.call<ComponentDefinition | null>(`v1/components/${seg(name)}/versions/${seg(version)}`, {
      ...req,
      headers,
      answers: [304],
    });
    const etag = res.headers.get('etag');
    const revision = revisionOf(res.headers);
    if (res.status === 304 || res.body === null) return { notModified: true, component: null, etag, revision };
    return { notModified: false, component: res.body, etag, revision };
  }

  /** Version history, semver-descending. Throws `component_not_found`. */
  async getVersions(name: string, req: RequestOptions = {}): Promise<VersionHistory> {
    return (await this.call<VersionHistory>(`v1/components/${seg(name)}/versions`, req)).body;
  }

  /**
   * The highest version satisfying a semver range. Throws `invalid_range` (bad range),
   * `component_not_found` or `no_matching_version`.
   */
  async resolve(name: string, range: string, req?: RequestOptions): Promise<ComponentDefinition>;
  /**
   * Resolves a set of constraints over the dependency closure (`POST /v1/resolve`): one version per
   * component, in dependency order. Throws `resolution_failed` (the conflicts are in
   * `err.extensions.conflicts`), `resolution_too_complex`, `invalid_range`, `invalid_request`.
   */
  async resolve(request: ResolveRequest, req?: RequestOptions): Promise<ResolvedComponent[]>;
  async resolve(
    nameOrRequest: string | ResolveRequest,
    rangeOrReq?: string | RequestOptions,
    maybeReq: RequestOptions = {},
  ): Promise<ComponentDefinition | ResolvedComponent[]> {
    if (typeof nameOrRequest !== 'string') {
      const req = typeof rangeOrReq === 'object' ? rangeOrReq : {};
      const res = await this.call<ResolveResponse>('v1/resolve', { ...req, method: 'POST', body: nameOrRequest });
      return res.body.resolved;
    }
    const query = new URLSearchParams({ range: typeof rangeOrReq === 'string' ? rangeOrReq : '' });
    const path = `v1/components/${seg(nameOrRequest)}/resolve`;
    return (await this.call<ComponentDefinition>(path, { ...maybeReq, query })).body;
  }

  /**
   * Without `proposed`: the published dependents whose ranges admit `version` (which must exist).
   * With `{ proposed: true }`: which dependents would accept or reject `version` if it were
   * published. Throws `component_not_found`, `invalid_request`.
   */
  async impact(name: string, version: string, req?: RequestOptions): Promise<VersionImpact>;
  async impact(name: string, version: string, opts: { proposed: true }, req?: RequestOptions): Promise<ProposedImpact>;
  async impact(
    name: string,
    version: string,
    optsOrReq?: { proposed: true } | RequestOptions,
    maybeReq: RequestOptions = {},
  ): Promise<VersionImpact | ProposedImpact> {
    if (optsOrReq && 'proposed' in optsOrReq) {
      const query = new URLSearchParams({ proposed: version });
      return (await this.call<ProposedImpact>(`v1/components/${seg(name)}/impact`, { ...maybeReq, query })).body;
    }
    const path = `v1/components/${seg(name)}/versions/${seg(version)}/impact`;
    return (await this.call<VersionImpact>(path, (optsOrReq as RequestOptions | undefined) ?? {})).body;
  }

  /** The changes between two published versions, as validation reports them. Throws `component_not_found`. */
  async diff(name: string, from: string, to: string, req: RequestOptions = {}): Promise<VersionDiff> {
    const query = new URLSearchParams({ from, to });
    return (await this.call<VersionDiff>(`v1/components/${seg(name)}/diff`, { ...req, query })).body;
  }

  /** Direct dependencies of one version, each resolved to its highest satisfying version (or null). */
  async getDependencies(
    name: string,
    version: string,
    req: RequestOptions = {},
  ): Promise<DependenciesResponse['items']> {
    const path = `v1/components/${seg(name)}/versions/${seg(version)}/dependencies`;
    return (await this.call<DependenciesResponse>(path, req)).body.items;
  }

  /** Every (component, version) whose direct dependencies name this component. */
  async getDependents(name: string, req: RequestOptions = {}): Promise<DependentsResponse['items']> {
    return (await this.call<DependentsResponse>(`v1/components/${seg(name)}/dependents`, req)).body.items;
  }

  /**
   * Publishes a version (write scope). Resolves with `created: false` for an identical
   * re-submission. Throws `validation_failed` (the rule findings are in `err.errors`, the rest of
   * the result in `err.extensions`), `version_conflict`, `invalid_request`, `unauthorized`, `forbidden`.
   */
  async createComponent(spec: SpecBody, req: RequestOptions = {}): Promise<CreateResult> {
    const res = await this.call<ComponentDefinition>('v1/components', {
      ...req,
      method: 'POST',
      body: specBody(spec),
    });
    return { component: res.body, created: res.status === 201, revision: revisionOf(res.headers) };
  }

  /**
   * Publishes several versions at once, all or nothing (write scope): validated as one set (a
   * member may depend on another member's new version), one event each with `data.changeset`.
   * Throws `validation_failed` (every member's result in `err.extensions.results`, input order),
   * `version_conflict` (`err.details.name`, `err.details.version`), `changeset_too_large`,
   * `invalid_request` (empty, or a member twice), `forbidden`.
   */
  async createChangeset(
    components: SpecBody[],
    opts: { message?: string; dryRun?: false },
    req?: RequestOptions,
  ): Promise<ChangesetResult>;
  /** The dry run: the verdict on the set, nothing written. */
  async createChangeset(
    components: SpecBody[],
    opts: { message?: string; dryRun: true },
    req?: RequestOptions,
  ): Promise<ChangesetDryRun>;
  async createChangeset(components: SpecBody[], opts?: undefined, req?: RequestOptions): Promise<ChangesetResult>;
  async createChangeset(
    components: SpecBody[],
    opts: { message?: string; dryRun?: boolean } = {},
    req: RequestOptions = {},
  ): Promise<ChangesetResult | ChangesetDryRun> {
    const query = new URLSearchParams();
    if (opts.dryRun) query.set('dry_run', 'true');
    const body = {
      components: components.map(specBody),
      ...(opts.message === undefined ? {} : { message: opts.message }),
    };
    return (
      await this.call<ChangesetResult | ChangesetDryRun>('v1/changesets', { ...req, method: 'POST', body, query })
    ).body;
  }

  /** A written changeset. Throws `changeset_not_found`. */
  async getChangeset(id: string, req: RequestOptions = {}): Promise<ChangesetRecord> {
    return (await this.call<ChangesetRecord>(`v1/changesets/${seg(id)}`, req)).body;
  }

  /**
   * Changes the mutable fields of a version: labels, annotations, maturity, support level,
   * deprecation (write scope). Throws `component_not_found`. With `ifMatch` (the `etag` of a
   * `getComponent` answer) the change applies only while the version is unchanged since that read;
   * otherwise it throws `precondition_failed` and nothing is written (read again, then retry).
   */
  async updateComponent(
    name: string,
    version: string,
    patch: ComponentPatch,
    req: UpdateOptions = {},
  ): Promise<ComponentDefinition> {
    const { ifMatch, ...rest } = req;
    const path = `v1/components/${seg(name)}/versions/${seg(version)}`;
    const headers: Record<string, string> = ifMatch === undefined ? {} : { 'if-match': ifMatch };
    return (await this.call<ComponentDefinition>(path, { ...rest, headers, method: 'PATCH', body: patch })).body;
  }

  /** Marks a version deprecated with a reason (write scope); latest and resolve still pick it. */
  deprecate(name: string, version: string, reason: string, req: RequestOptions = {}): Promise<ComponentDefinition> {
    return this.updateComponent(name, version, { deprecated: { reason } }, req);
  }

  /** Lifts a deprecation (write scope). */
  undeprecate(name: string, version: string, req: RequestOptions = {}): Promise<ComponentDefinition> {
    return this.updateComponent(name, version, { deprecated: null }, req);
  }

  /**
   * Revokes a version (admin scope): latest, resolve, list and search skip it from now on; an exact
   * read still answers it with `revoked` set. Throws `component_not_found`, `component_deleted`.
   */
  async revoke(name: string, version: string, reason: string, req: RequestOptions = {}): Promise<ComponentDefinition> {
    const path = `v1/components/${seg(name)}/versions/${seg(version)}/revoke`;
    return (await this.call<ComponentDefinition>(path, { ...req, method: 'POST', body: { reason } })).body;
  }

  /**
   * Deletes a version softly (admin scope): it answers 410 `component_deleted` from now on, its
   * number is never reusable, and it is purged after the server's `lifecycle.purge_after`. Throws
   * `has_dependents` (409, `details.dependents`), `component_not_found`, `component_deleted`.
   */
  async deleteVersion(
    name: string,
    version: string,
    opts: { reason?: string } = {},
    req: RequestOptions = {},
  ): Promise<ComponentDefinition> {
    const path = `v1/components/${seg(name)}/versions/${seg(version)}`;
    const query = new URLSearchParams();
    if (opts.reason !== undefined) query.set('reason', opts.reason);
    return (await this.call<ComponentDefinition>(path, { ...req, method: 'DELETE', query })).body;
  }

  /** Lifts a revocation or a not-yet-purged deletion (admin scope). Throws `component_deleted` once purged. */
  async restore(name: string, version: string, req: RequestOptions = {}): Promise<ComponentDefinition> {
    const path = `v1/components/${seg(name)}/versions/${seg(version)}/restore`;
    return (await this.call<ComponentDefinition>(path, { ...req, method: 'POST', body: {} })).body;
  }

  /**
   * Runs every validation rule without writing (`POST /v1/validate`). An invalid component is a
   * result with `valid: false`, not an error; a body that does not decode throws `invalid_request`.
   */
  async validate(spec: SpecBody, req: RequestOptions = {}): Promise<ValidationResult> {
    return (await this.call<ValidationResult>('v1/validate', { ...req, method: 'POST', body: specBody(spec) })).body;
  }

  /**
   * Validates several components, one result per spec in the same order. Each is judged against
   * the catalog as it stands (not against the others of the batch). Batches larger than the
   * server's limit are sent in several requests.
   */
  async validateBatch(specs: SpecBody[], req: RequestOptions = {}): Promise<ValidationResult[]> {
    const results: ValidationResult[] = [];
    for (let i = 0; i < specs.length; i += VALIDATE_BATCH_LIMIT) {
      const components = specs.slice(i, i + VALIDATE_BATCH_LIMIT).map(specBody);
      const res = await this.call<BatchValidationResponse>('v1/validate', {
        ...req,
        method: 'POST',
        body: { components },
      });
      results.push(...res.body.results);
    }
    return results;
  }

  /** Every deployment engine with its health (`healthy`, `unhealthy`, `unknown`). */
  async listEngines(req: RequestOptions = {}): Promise<DeploymentEngine[]> {
    return (await this.call<EngineList>('v1/engines', req)).body.items;
  }

  /** One engine with its recent probes. Throws `engine_not_found`. */
  async getEngine(name: string, req: RequestOptions = {}): Promise<EngineDetail> {
    return (await this.call<EngineDetail>(`v1/engines/${seg(name)}`, req)).body;
  }

  /** Registers an engine (admin scope); its health is `unknown` until probed. Throws `engine_conflict`. */
  async registerEngine(body: EngineRegistration, req: RequestOptions = {}): Promise<DeploymentEngine> {
    return (await this.call<DeploymentEngine>('v1/engines', { ...req, method: 'POST', body })).body;
  }

  /** Removes an engine (admin scope). Throws `engine_not_found`. */
  async deregisterEngine(name: string, req: RequestOptions = {}): Promise<void> {
    await this.call<null>(`v1/engines/${seg(name)}`, { ...req, method: 'DELETE', answers: [204] });
  }

  /** Every git or directory source with its sync status. */
  async listSources(req: RequestOptions = {}): Promise<SourceStatus[]> {
    return (await this.call<SourceList>('v1/sources', req)).body.items;
  }

  /** One source: last commit, counts and per-file errors. Throws `source_not_found`. */
  async getSource(name: string, req: RequestOptions = {}): Promise<SourceStatus> {
    return (await this.call<SourceStatus>(`v1/sources/${seg(name)}`, req)).body;
  }

  /**
   * Asks for a sync now (admin scope); it runs in the background. `confirm_removals` lets a
   * blocked source's next sync orphan past its `max_orphan_ratio`. Throws `source_not_found`.
   */
  async syncSource(
    name: string,
    { confirm_removals, ...req }: RequestOptions & { confirm_removals?: boolean } = {},
  ): Promise<SyncAccepted> {
    const query = new URLSearchParams();
    if (confirm_removals) query.set('confirm_removals', 'true');
    return (await this.call<SyncAccepted>(`v1/sources/${seg(name)}/sync`, { ...req, method: 'POST', query })).body;
  }

  /** Creates an API token (admin scope); the answer holds the token, shown only this once. Throws `token_conflict`. */
  async createToken(body: TokenRequest, req: RequestOptions = {}): Promise<CreatedToken> {
    return (await this.call<CreatedToken>('v1/tokens', { ...req, method: 'POST', body })).body;
  }

  /** Every stored token, without secrets (admin scope). Config and environment tokens are not listed. */
  async listTokens(req: RequestOptions = {}): Promise<TokenInfo[]> {
    return (await this.call<TokenList>('v1/tokens', req)).body.items;
  }

  /** Revokes a stored token (admin scope); every replica refuses it within 2 s. Throws `token_not_found`. */
  async revokeToken(id: string, req: RequestOptions = {}): Promise<void> {
    await this.call<null>(`v1/tokens/${seg(id)}`, { ...req, method: 'DELETE', answers: [204] });
  }

  /** Creates a webhook subscription (admin scope); the answer holds its signing secret, shown only this once. */
  async createSubscription(body: SubscriptionRequest, req: RequestOptions = {}): Promise<CreatedSubscription> {
    return (await this.call<CreatedSubscription>('v1/subscriptions', { ...req, method: 'POST', body })).body;
  }

  /** Every webhook subscription, without secrets (admin scope). */
  async listSubscriptions(req: RequestOptions = {}): Promise<SubscriptionInfo[]> {
    return (await this.call<SubscriptionList>('v1/subscriptions', req)).body.items;
  }

  /** Deletes a webhook subscription and its delivery log (admin scope). Throws `subscription_not_found`. */
  async deleteSubscription(id: string, req: RequestOptions = {}): Promise<void> {
    await this.call<null>(`v1/subscriptions/${seg(id)}`, { ...req, method: 'DELETE', answers: [204] });
  }

  /** A subscription's delivery log, newest event first (admin scope). Throws `subscription_not_found`. */
  async listDeliveries(id: string, req: RequestOptions = {}): Promise<DeliveryInfo[]> {
    return (await this.call<DeliveryList>(`v1/subscriptions/${seg(id)}/deliveries`, req)).body.items;
  }

  /** `GET /healthz`: the process is up. */
  async health(req: RequestOptions = {}): Promise<HealthStatus> {
    return (await this.call<HealthStatus>('healthz', req)).body;
  }

  /** `GET /readyz`: whether the process can serve (store reachable); a 503 is `ready: false`, not an error. */
  async ready(req: RequestOptions = {}): Promise<ReadinessStatus> {
    const res = await this.call<Omit<ReadinessStatus, 'ready'>>('readyz', { ...req, answers: [503] });
    return { ready: res.status === 200, status: res.body.status, checks: res.body.checks ?? {} };
  }

  /** `GET /version`: the server's version, commit, build date and Node version. */
  async version(req: RequestOptions = {}): Promise<VersionInfo> {
    return (await this.call<VersionInfo>('version', req)).body;
  }

  private async call<T>(path: string, opts: CallOptions): Promise<RawResponse<T>> {
    const method = opts.method ?? 'GET';
    const url = new URL(path, this.base);
    if (opts.query && [...opts.query.keys()].length > 0) url.search = opts.query.toString();
    const operation = `${method} ${url.pathname}`;
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      'user-agent': this.userAgent,
      ...opts.headers,
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }

    // One controller covers the whole exchange, body included, and follows the caller's signal.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`timed out after ${this.timeoutMs}ms`));
    }, this.timeoutMs);
    const caller = opts.signal;
    const follow = () => controller.abort(caller?.reason);
    if (caller?.aborted) follow();
    else caller?.addEventListener('abort', follow, { once: true });

    try {
      const res = await this.fetchImpl(url, { method, headers, body, signal: controller.signal });
      const text = await res.text();
      if (!res.ok && !(opts.answers ?? []).includes(res.status)) {
        throw fromProblem(res.status, parseJson(text) ?? { detail: describeStatus(res, text) });
      }
      // 204 and 304 carry no body by definition.
      if (text.length === 0 && (res.status === 204 || res.status === 304)) {
        return { status: res.status, body: null as T, headers: res.headers };
      }
      const parsed = parseJson(text);
      if (parsed === undefined) {
        throw new NestorError(
          'internal_error',
          `${operation}: the server answered ${res.status} with a non-JSON body`,
          {
            component: COMPONENT,
            operation,
            details: { status: res.status },
          },
        );
      }
      return { status: res.status, body: parsed as T, headers: res.headers };
    } catch (err) {
      if (NestorError.is(err)) throw err;
      if (timedOut) {
        throw new NestorError('timeout', `${operation} timed out after ${this.timeoutMs}ms`, {
          component: COMPONENT,
          operation,
          details: { timeout_ms: this.timeoutMs },
          cause: err,
        });
      }
      if (caller?.aborted) throw caller.reason;
      throw new NestorError('service_unavailable', `${operation}: cannot reach ${this.base.origin}: ${reason(err)}`, {
        component: COMPONENT,
        operation,
        cause: err,
      });
    } finally {
      clearTimeout(timer);
      caller?.removeEventListener('abort', follow);
    }
  }
}

/** Encodes one path segment: a name or version can never add a segment or a query. */
function seg(value: string): string {
  return encodeURIComponent(value);
}

function listQuery(opts: ListOptions): URLSearchParams {
  const q = new URLSearchParams();
  for (const key of [
    'provider',
    'category',
    'resource_type',
    'engine',
    'maturity',
    'support_level',
    'sort',
    'cursor',
  ] as const) {
    const value = opts[key];
    if (value !== undefined && value !== '') q.set(key, value);
  }
  for (const [k, v] of Object.entries(opts.labels ?? {})) q.append('label', `${k}=${v}`);
  if (opts.include_prerelease !== undefined) q.set('include_prerelease', String(opts.include_prerelease));
  if (opts.orphaned) q.set('orphaned', 'true');
  if (opts.limit !== undefined) q.set('limit', String(opts.limit));
  if (opts.facets && opts.facets.length > 0) q.set('facets', opts.facets.join(','));
  if (opts.facet_limit !== undefined) q.set('facet_limit', String(opts.facet_limit));
  return q;
}

function pageOf<T>(body: ResultPage<T>, headers: Headers): RevisionedPage<T> {
  return {
    items: body.items,
    next_cursor: body.next_cursor,
    // A server from before totals: the page is all it told.
    total: typeof body.total === 'number' ? body.total : body.items.length,
    ...(body.facets ? { facets: body.facets } : {}),
    revision: revisionOf(headers),
  };
}

function revisionOf(headers: Headers): number | null {
  const raw = headers.get('x-catalog-revision');
  if (raw === null || raw.trim() === '') return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** A body without the null git fields a normalised spec carries, which the server's schema refuses. */
function specBody(spec: SpecBody): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec };
  for (const field of NULLABLE_SPEC_FIELDS) if (out[field] === null) delete out[field];
  return out;
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeStatus(res: Response, text: string): string {
  const snippet = text.trim().slice(0, 200);
  return `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`;
}

function reason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
