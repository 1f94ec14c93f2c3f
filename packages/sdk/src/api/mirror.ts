import semver from 'semver';
import { NestorError } from '../errors/errors.js';
import { fromProblem } from '../errors/http.js';
import type { CatalogEvent } from '../events/types.js';
import type { ComponentDefinition } from '../models/component.js';
import {
  type ResolvedComponent,
  type ResolveOptions,
  type ResolveRequest,
  resolveConstraints,
} from '../resolve/resolver.js';
import { globalFetch } from './global-fetch.js';
import { CatalogStream, type CatalogStreamOptions } from './sse-client.js';
import type { ComponentList } from './types.js';

export interface CatalogMirrorOptions {
  /** Base URL of the orchestrator, e.g. `http://nestor:8080`. */
  baseUrl: string;
  /** Bearer token (read scope). */
  token?: string;
  /** Let prereleases count when choosing each component's latest version (as the list does). */
  includePrerelease?: boolean;
  /** Page size of the list (1..500). */
  pageSize?: number;
  /** Stops the mirror, like `close()`. */
  signal?: AbortSignal;
  backoff?: CatalogStreamOptions['backoff'];
  idleTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** What the mirror tells its listeners. `previous` is the version held before the change. */
export interface MirrorEvents {
  added: (component: ComponentDefinition) => void;
  updated: (component: ComponentDefinition, previous: ComponentDefinition) => void;
  deprecated: (component: ComponentDefinition, previous: ComponentDefinition) => void;
  /** Every version of the component is now revoked or deleted: it left the catalog's list. */
  removed: (previous: ComponentDefinition) => void;
  /** The server's log no longer reached back to our position; the mirror relisted. */
  relisted: (revision: number) => void;
  /** A failure the mirror will retry (network, server restart); fatal ones reject `ready()`. */
  error: (err: unknown) => void;
}

/**
 * A local, always-current copy of the catalog's latest versions (the informer pattern): list
 * everything, remember the list's `X-Catalog-Revision` R, then watch the event stream from R. Every
 * change after R arrives exactly once; an event never replaces a newer latest, nor a version the
 * mirror already holds at a later revision. On `reset` it relists and reports the differences.
 */
export class CatalogMirror {
  private readonly opts: CatalogMirrorOptions;
  private readonly fetchImpl: typeof fetch;
  private readonly items = new Map<string, ComponentDefinition>();
  private readonly listeners: { [K in keyof MirrorEvents]: Set<MirrorEvents[K]> } = {
    added: new Set(),
    updated: new Set(),
    deprecated: new Set(),
    removed: new Set(),
    relisted: new Set(),
    error: new Set(),
  };
  private readonly controller = new AbortController();
  private position = 0;
  private readyPromise: Promise<void> | null = null;
  private loop: Promise<void> | null = null;

  constructor(opts: CatalogMirrorOptions) {
    this.opts = opts;
    this.fetchImpl = opts.fetch ?? globalFetch;
    opts.signal?.addEventListener('abort', () => this.controller.abort(), { once: true });
  }

  /** Subscribes to a kind of change; returns the unsubscribe function. */
  on<K extends keyof MirrorEvents>(kind: K, listener: MirrorEvents[K]): () => void {
    this.listeners[kind].add(listener);
    return () => this.listeners[kind].delete(listener);
  }

  /**
   * Lists and starts watching (idempotent). The returned promise is `ready()`: it resolves once the
   * first list is loaded and rejects when the server refuses the mirror (bad token, bad URL).
   */
  start(): Promise<void> {
    if (!this.readyPromise) {
      let resolveReady!: () => void;
      let rejectReady!: (err: unknown) => void;
      this.readyPromise = new Promise<void>((resolve, reject) => {
        resolveReady = resolve;
        rejectReady = reject;
      });
      this.readyPromise.catch(() => {});
      this.loop = this.run(resolveReady, rejectReady);
    }
    return this.readyPromise;
  }

  /** Resolves once the first list is loaded (starting the mirror if needed). */
  ready(): Promise<void> {
    return this.start();
  }

  /** The latest version held for a name. */
  get(name: string): ComponentDefinition | undefined {
    return this.items.get(name);
  }

  /** Every component held, by name. */
  list(): ComponentDefinition[] {
    return [...this.items.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Resolves constraints locally with the server's algorithm (`POST /v1/resolve`), over the
   * versions the mirror holds: the latest of each component, so a constraint that only an older
   * version satisfies fails here where the server, which sees every version, may succeed. Throws
   * `resolution_failed` and `resolution_too_complex` as the server does.
   */
  resolve(request: ResolveRequest, opts: Pick<ResolveOptions, 'stepBudget'> = {}): ResolvedComponent[] {
    const constraints = request.constraints.map((c) => ({ name: c.name, range: c.range, from: c.from ?? 'request' }));
    return resolveConstraints(
      constraints,
      (name) => {
        const held = this.items.get(name);
        return held ? [held] : [];
      },
      { ...opts, includePrerelease: request.include_prerelease ?? false },
    );
  }

  get size(): number {
    return this.items.size;
  }

  /** The catalog revision the mirror reflects: everything up to it has been applied. */
  get revision(): number {
    return this.position;
  }

  /** Stops watching; resolves when the background work has ended. */
  async close(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  private async run(resolveReady: () => void, rejectReady: (err: unknown) => void): Promise<void> {
    const signal = this.controller.signal;
    let first = true;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        const { items, revision } = await this.listAll(signal);
        this.replaceAll(items, revision, !first);
        attempt = 0;
        if (first) resolveReady();
        first = false;
        const relist = await this.watch(signal);
        if (!relist) return;
      } catch (err) {
        if (signal.aborted) break;
        if (first && NestorError.is(err) && err.code !== 'internal_error' && err.code !== 'service_unavailable') {
          rejectReady(err);
          return;
        }
        this.emit('error', err);
        attempt++;
        const ceiling = Math.min(
          this.opts.backoff?.maxMs ?? 30_000,
          (this.opts.backoff?.initialMs ?? 500) * 2 ** attempt,
        );
        await sleep(Math.random() * ceiling, signal);
      }
    }
    if (first) rejectReady(new NestorError('service_unavailable', 'mirror closed before it was ready'));
  }

  /** Watches from the current position; resolves true when a reset asks for a relist. */
  private async watch(signal: AbortSignal): Promise<boolean> {
    const local = new AbortController();
    const stop = () => local.abort();
    signal.addEventListener('abort', stop, { once: true });
    const stream = new CatalogStream({
      baseUrl: this.opts.baseUrl,
      ...(this.opts.token ? { token: this.opts.token } : {}),
      since: this.position,
      signal: local.signal,
      ...(this.opts.backoff ? { backoff: this.opts.backoff } : {}),
      ...(this.opts.idleTimeoutMs ? { idleTimeoutMs: this.opts.idleTimeoutMs } : {}),
      fetch: this.fetchImpl,
      filter: { types: [...MIRRORED_TYPES] },
    });
    try {
      for await (const item of stream) {
        if (item.type === 'event') await this.apply(item.event, local.signal);
        else if (item.type === 'reset') return true;
      }
      return false;
    } finally {
      signal.removeEventListener('abort', stop);
      local.abort();
    }
  }

  /**
   * Applies one component event to the map. A version leaving circulation (revoked, deleted,
   * purged) that the mirror holds as latest makes it ask the server for the name's new latest, which
   * may be none (`removed`).
   */
  private async apply(event: CatalogEvent, signal: AbortSignal): Promise<void> {
    const component = event.data.component as ComponentDefinition | undefined;
    if (!component || typeof component.name !== 'string') {
      if (event.id > this.position) this.position = event.id;
      return;
    }
    const held = this.items.get(component.name);
    if (component.revoked || component.deleted) {
      if (held && held.version === component.version && event.id > held.revision) {
        const next = await this.fetchLatest(component.name, signal);
        if (next === null) {
          this.items.delete(component.name);
          this.emit('removed', held);
        } else if (next.version !== held.version || next.revision !== held.revision) {
          this.items.set(next.name, next);
          this.emit('updated', next, held);
        }
      }
      if (event.id > this.position) this.position = event.id;
      return;
    }
    if (event.id > this.position) this.position = event.id;
    if (!held) {
      this.items.set(component.name, component);
      this.emit('added', component);
      return;
    }
    if (event.id <= held.revision) return;
    if (held.version !== component.version && !this.isBetterLatest(component.version, held.version)) return;
    this.items.set(component.name, component);
    if (component.deprecated && !held.deprecated && held.version === component.version) {
      this.emit('deprecated', component, held);
    } else {
      this.emit('updated', component, held);
    }
  }

  /** `GET /v1/components/{name}`: the name's latest now, or null when it has none (404). */
  private async fetchLatest(name: string, signal: AbortSignal): Promise<ComponentDefinition | null> {
    const u = new URL(`/v1/components/${encodeURIComponent(name)}`, this.opts.baseUrl);
    u.searchParams.set('include_prerelease', String(this.opts.includePrerelease ?? false));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const res = await this.fetchImpl(u, { headers, signal });
    const body: unknown = await res.json().catch(() => null);
    if (res.status === 404) return null;
    if (!res.ok) throw fromProblem(res.status, body);
    return body as ComponentDefinition;
  }

  /** The server's "latest" rule: the highest stable version; prereleases only when nothing is stable. */
  private isBetterLatest(candidate: string, current: string): boolean {
    if (!this.opts.includePrerelease) {
      const candidateStable = semver.prerelease(candidate) === null;
      const currentStable = semver.prerelease(current) === null;
      if (candidateStable !== currentStable) return candidateStable;
    }
    return semver.gt(candidate, current);
  }

  private replaceAll(items: ComponentDefinition[], revision: number, report: boolean): void {
    const before = new Map(this.items);
    this.items.clear();
    for (const c of items) this.items.set(c.name, c);
    this.position = revision;
    if (!report) {
      for (const c of items) this.emit('added', c);
      return;
    }
    this.emit('relisted', revision);
    for (const [name, old] of before) if (!this.items.has(name)) this.emit('removed', old);
    for (const c of items) {
      const old = before.get(c.name);
      if (!old) this.emit('added', c);
      else if (old.version !== c.version || old.revision !== c.revision) {
        if (c.deprecated && !old.deprecated && old.version === c.version) this.emit('deprecated', c, old);
        else this.emit('updated', c, old);
      }
    }
  }

  /**
   * Every page of `GET /v1/components`. The revision is the smallest one seen: pages read later may
   * already show newer writes, and replaying those events is harmless (held revisions filter them).
   */
  private async listAll(signal: AbortSignal): Promise<{ items: ComponentDefinition[]; revision: number }> {
    const items: ComponentDefinition[] = [];
    let revision = Number.POSITIVE_INFINITY;
    let cursor: string | null = null;
    do {
      const u = new URL('/v1/components', this.opts.baseUrl);
      u.searchParams.set('limit', String(this.opts.pageSize ?? 500));
      u.searchParams.set('include_prerelease', String(this.opts.includePrerelease ?? false));
      if (cursor) u.searchParams.set('cursor', cursor);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
      const res = await this.fetchImpl(u, { headers, signal });
      const body: unknown = await res.json().catch(() => null);
      if (!res.ok) throw fromProblem(res.status, body);
      const header = Number(res.headers.get('x-catalog-revision'));
      if (!Number.isSafeInteger(header) || header < 0) {
        throw new NestorError('internal_error', 'list response has no valid X-Catalog-Revision header');
      }
      revision = Math.min(revision, header);
      const page = body as ComponentList;
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return { items, revision: Number.isFinite(revision) ? revision : 0 };
  }

  private emit<K extends keyof MirrorEvents>(kind: K, ...args: Parameters<MirrorEvents[K]>): void {
    for (const listener of this.listeners[kind]) {
      try {
        (listener as (...a: Parameters<MirrorEvents[K]>) => void)(...args);
      } catch (err) {
        if (kind !== 'error') this.emit('error', err);
      }
    }
  }
}

/** The events that can change which version of a name is the latest, or what it shows. */
const MIRRORED_TYPES = [
  'component.created',
  'component.updated',
  'component.deprecated',
  'component.revoked',
  'component.deleted',
  'component.restored',
  'component.purged',
  'component.orphaned',
] as const;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
