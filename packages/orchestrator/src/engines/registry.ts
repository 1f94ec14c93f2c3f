import {
  type CatalogEvent,
  conflict,
  type DeploymentEngine,
  type EngineHealth,
  invalidRequest,
  NestorError,
  type NewCatalogEvent,
} from '@nestor/sdk';
import type { EngineConfig } from '../config/config.js';
import type { ChangeFeed } from '../events/interfaces.js';
import type { EndpointPolicy } from '../infra/endpoint-policy.js';
import { type Clock, systemClock } from '../observability/clock.js';
import { type Logger, silentLogger } from '../observability/logging/logger.js';
import type { Gauge, Metrics } from '../observability/metrics/interfaces.js';
import { noopMetrics } from '../observability/metrics/metrics.js';
import { engineNotFound } from '../storage/errors.js';
import type { AuditEntry, EngineStore, EventLog } from '../storage/interfaces.js';
import { probeSummary } from './health.js';
import type {
  EngineDetail,
  EngineOrigin,
  EngineReader,
  EngineRegistrar,
  HealthVerdict,
  ProbeResult,
  ProbeTargets,
} from './interfaces.js';

const engineSubject = (name: string) => ({ name, version: null, digest: null });

/** A configured (or discovered, or posted) engine before any probe has run. */
export function engineFromConfig(c: EngineConfig, origin: EngineOrigin | string): DeploymentEngine {
  return {
    name: c.name,
    type: c.type,
    endpoint: c.endpoint,
    health_path: c.health_path,
    health: 'unknown',
    last_checked: null,
    last_latency_ms: null,
    consecutive_failures: 0,
    message: c.endpoint ? 'not probed yet' : 'no endpoint configured; never probed',
    labels: { ...c.labels },
    origin,
    missing: false,
    interval_ms: c.interval_ms,
    timeout_ms: c.timeout_ms,
    failure_threshold: c.failure_threshold,
    success_threshold: c.success_threshold,
  };
}

/** What one reconciliation with a discovery source changed. */
export interface ReconcileOutcome {
  added: string[];
  updated: string[];
  /** Engines this source found before and no longer finds (marked `missing`, or deleted for `config`). */
  missing: string[];
  /** Names the source found that another origin already holds (left alone). */
  skipped: string[];
}

export interface EngineRegistryOptions {
  store: EngineStore;
  events: Pick<EventLog, 'appendEvent'>;
  feed: ChangeFeed;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** Probe results kept per engine for `GET /v1/engines/{name}`. */
  historySize?: number;
  /**
   * A probe that changes no health is persisted at most this often per engine (health changes are
   * persisted at once), so hundreds of engines do not turn into a write stream.
   */
  persistEveryMs?: number;
  /** Judges the endpoints of `register()`; without it every endpoint is accepted. */
  policy?: EndpointPolicy;
}

const HEALTH_VALUE: Record<EngineHealth, number> = { healthy: 1, unhealthy: 0, unknown: -1 };
const HEALTH_FIELDS = ['health', 'last_checked', 'last_latency_ms', 'consecutive_failures', 'message'] as const;
const COMPONENT = 'engines';

/**
 * Every known engine, from config, the API and discovery. The store is the truth shared by
 * replicas; reads are served from memory, which `refresh()` brings up to date with the store.
 */
export class EngineRegistry implements EngineReader, EngineRegistrar, ProbeTargets {
  private readonly store: EngineStore;
  private readonly events: Pick<EventLog, 'appendEvent'>;
  private readonly feed: ChangeFeed;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly gauge: Gauge;
  private readonly historySize: number;
  private readonly persistEveryMs: number;
  private readonly policy: EndpointPolicy | undefined;
  private engines = new Map<string, DeploymentEngine>();
  private readonly history = new Map<string, ProbeResult[]>();
  private readonly persistedAt = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private epoch = 0;
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(opts: EngineRegistryOptions) {
    this.store = opts.store;
    this.events = opts.events;
    this.feed = opts.feed;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.historySize = opts.historySize ?? 20;
    this.persistEveryMs = opts.persistEveryMs ?? 60_000;
    this.policy = opts.policy;
    this.gauge = (opts.metrics ?? noopMetrics).gauge(
      'nestor_engine_health',
      'Engine health: 1 healthy, 0 unhealthy, -1 unknown',
      ['engine'],
    );
  }

  /** Reads the store, then makes the configured engines match `configured` (origin `config`). */
  async load(configured: EngineConfig[]): Promise<void> {
    await this.refresh();
    await this.reconcile('config', configured);
  }

  async listEngines(): Promise<DeploymentEngine[]> {
    return [...this.engines.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(copy);
  }

  async getEngine(name: string): Promise<DeploymentEngine | null> {
    const engine = this.engines.get(name);
    return engine ? copy(engine) : null;
  }

  healthEpoch(): number {
    return this.epoch;
  }

  /** The engine with its recent probes (oldest first); null when no engine has that name. */
  async describe(name: string): Promise<EngineDetail | null> {
    const engine = this.engines.get(name);
    if (!engine) return null;
    return { ...copy(engine), history: (this.history.get(name) ?? []).map((p) => ({ ...p })) };
  }

  snapshot(): DeploymentEngine[] {
    return [...this.engines.values()];
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async register(config: EngineConfig, audit?: AuditEntry): Promise<DeploymentEngine> {
    const refusal = config.endpoint && this.policy ? await this.policy.check(config.endpoint) : null;
    if (refusal) {
      throw invalidRequest(COMPONENT, 'RegisterEngine', `endpoint refused: ${refusal}`, {
        field: 'endpoint',
        reason: refusal,
      });
    }
    // The store is asked too: another replica may have registered the name since the last refresh.
    const existing = this.engines.get(config.name) ?? (await this.store.getEngine(config.name));
    if (existing) {
      throw conflict(
        COMPONENT,
        'RegisterEngine',
        `engine "${config.name}" already exists (origin ${existing.origin})`,
        { name: config.name, origin: existing.origin },
        'engine_conflict',
      );
    }
    const engine = engineFromConfig(config, 'api');
    // The registration, its event and its audit entry are one write: none exists without the others.
    const event = await this.events.appendEvent(
      {
        type: 'engine.registered',
        subject: engineSubject(engine.name),
        data: { engine: engine.name, type: engine.type, endpoint: engine.endpoint, origin: engine.origin },
      },
      { kind: 'engine_put', engine },
      audit,
    );
    this.engines.set(engine.name, engine);
    this.changed(true);
    this.feed.publish(event.id);
    this.logger.info({ engine: engine.name, endpoint: engine.endpoint, revision: event.id }, 'engine registered');
    return copy(engine);
  }

  async deregister(name: string, audit?: AuditEntry): Promise<boolean> {
    let event: CatalogEvent | null = null;
    try {
      event = await this.events.appendEvent(
        { type: 'engine.removed', subject: engineSubject(name), data: { engine: name } },
        { kind: 'engine_delete', name },
        audit,
      );
    } catch (err) {
      // Not stored (only known here, or removed by another replica meanwhile): nothing to announce.
      if (!(NestorError.is(err) && err.code === 'engine_not_found')) throw err;
    }
    const local = this.engines.delete(name);
    if (!event && !local) {
      throw engineNotFound(COMPONENT, 'DeregisterEngine', name);
    }
    this.forget(name);
    this.changed(true);
    if (event) this.feed.publish(event.id);
    this.logger.info({ engine: name, revision: event?.id ?? null }, 'engine deregistered');
    return event !== null;
  }

  /**
   * Makes the engines of one origin match what that source found: new ones are added, known ones
   * updated (and un-marked when they come back), vanished ones marked `missing` and unhealthy —
   * except for `config`, whose removed engines are deleted, since the file is the declared truth.
   * A name held by another origin is left alone, except that config overrides the API.
   */
  async reconcile(origin: EngineOrigin, found: EngineConfig[]): Promise<ReconcileOutcome> {
    const outcome: ReconcileOutcome = { added: [], updated: [], missing: [], skipped: [] };
    const names = new Set<string>();
    let registrationChanged = false;
    for (const c of found) {
      if (names.has(c.name)) {
        outcome.skipped.push(c.name);
        continue;
      }
      names.add(c.name);
      const existing = this.engines.get(c.name);
      if (!existing) {
        const engine = engineFromConfig(c, origin);
        await this.store.putEngine(engine);
        this.engines.set(c.name, engine);
        outcome.added.push(c.name);
        registrationChanged = true;
        continue;
      }
      if (existing.origin !== origin && !(origin === 'config' && existing.origin === 'api')) {
        outcome.skipped.push(c.name);
        continue;
      }
      const fresh = engineFromConfig(c, origin);
      const next: DeploymentEngine = existing.missing
        ? { ...fresh, message: `found again by ${origin}` }
        : { ...existing, ...registration(fresh) };
      if (sameRegistration(existing, next) && existing.health === next.health) continue;
      if (existing.health !== next.health) await this.announce(next, existing.health);
      else await this.store.putEngine(next);
      this.engines.set(c.name, next);
      outcome.updated.push(c.name);
      registrationChanged = true;
    }
    for (const engine of [...this.engines.values()]) {
      if (engine.origin !== origin || names.has(engine.name)) continue;
      if (origin === 'config') {
        await this.store.deleteEngine(engine.name);
        this.engines.delete(engine.name);
        this.forget(engine.name);
        outcome.missing.push(engine.name);
        registrationChanged = true;
        continue;
      }
      if (engine.missing) continue;
      const marked: DeploymentEngine = {
        ...engine,
        missing: true,
        health: 'unhealthy',
        message: `no longer found by ${origin} discovery`,
        last_checked: this.clock.now().toISOString(),
      };
      if (engine.health !== marked.health) await this.announce(marked, engine.health);
      else await this.store.putEngine(marked);
      this.engines.set(engine.name, marked);
      outcome.missing.push(engine.name);
      registrationChanged = true;
    }
    if (outcome.skipped.length > 0) {
      this.logger.warn({ origin, names: outcome.skipped }, 'discovered engines clash with engines of another origin');
    }
    if (registrationChanged) this.changed(true);
    return outcome;
  }

  async recordProbe(name: string, result: ProbeResult, verdict: HealthVerdict): Promise<void> {
    const engine = this.engines.get(name);
    if (!engine || engine.missing) return;
    const history = this.history.get(name) ?? [];
    history.push(result);
    if (history.length > this.historySize) history.splice(0, history.length - this.historySize);
    this.history.set(name, history);
    const next: DeploymentEngine = {
      ...engine,
      health: verdict.health,
      last_checked: result.at,
      last_latency_ms: result.latency_ms,
      consecutive_failures: verdict.consecutive_failures,
      message: result.message,
    };
    this.engines.set(name, next);
    this.gauge.set({ engine: name }, HEALTH_VALUE[next.health]);
    const healthChanged = engine.health !== next.health;
    const now = this.clock.now().getTime();
    if (!healthChanged && now - (this.persistedAt.get(name) ?? 0) < this.persistEveryMs) return;
    if (healthChanged) {
      this.changed(false);
      this.logger.info(
        { engine: name, previous: engine.health, health: next.health, message: next.message },
        'engine health changed',
      );
    }
    await this.persistHealth(next, now, healthChanged ? engine.health : null, probeSummary(result));
  }

  /**
   * Brings memory up to date with the store: registrations come from the store; health comes from
   * whichever copy was checked more recently (so the probing replica keeps its newer results and
   * the others adopt them).
   */
  async refresh(): Promise<void> {
    const stored = await this.store.listEngines();
    const next = new Map<string, DeploymentEngine>();
    let registrationChanged = stored.length !== this.engines.size;
    let healthChanged = false;
    for (const s of stored) {
      const local = this.engines.get(s.name);
      let merged = s;
      if (local && (local.last_checked ?? '') > (s.last_checked ?? '') && !s.missing) {
        merged = { ...s, ...pick(local, HEALTH_FIELDS) };
      }
      if (!local || !sameRegistration(local, merged)) registrationChanged = true;
      if (local && local.health !== merged.health) healthChanged = true;
      next.set(s.name, merged);
    }
    for (const name of this.engines.keys()) if (!next.has(name)) this.forget(name);
    this.engines = next;
    for (const e of next.values()) this.gauge.set({ engine: e.name }, HEALTH_VALUE[e.health]);
    if (registrationChanged || healthChanged) this.changed(registrationChanged);
  }

  /** Refreshes from the store every `intervalMs`, for engines changed by other replicas. */
  startRefresh(intervalMs: number): void {
    if (this.refreshTimer) return;
    const loop = () => {
      this.refreshTimer = setTimeout(() => {
        this.refresh()
          .catch((err: unknown) => this.logger.warn({ err }, 'engine refresh from the store failed'))
          .finally(() => {
            if (this.refreshTimer) loop();
          });
      }, intervalMs);
      this.refreshTimer.unref();
    };
    loop();
  }

  stopRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  /**
   * Writes the health fields onto the stored registration, with `engine.health_changed` in the
   * same write when the health moved from `previous`; false when the engine vanished meanwhile.
   */
  private async persistHealth(
    engine: DeploymentEngine,
    now: number,
    previous: EngineHealth | null,
    message?: string | null,
  ): Promise<boolean> {
    try {
      // Re-read so that a deregistration by another replica is not undone by this write.
      const stored = await this.store.getEngine(engine.name);
      if (!stored) {
        if (this.engines.delete(engine.name)) {
          this.forget(engine.name);
          this.changed(true);
        }
        return false;
      }
      const next = { ...stored, ...pick(engine, HEALTH_FIELDS) };
      if (previous === null) await this.store.putEngine(next);
      else await this.announce(next, previous, message);
      this.persistedAt.set(engine.name, now);
    } catch (err) {
      this.logger.warn({ err, engine: engine.name }, 'could not persist engine health');
    }
    return true;
  }

  /**
   * Stores the engine and appends `engine.health_changed` in one write, then wakes readers.
   * `message` defaults to the engine's; a probe's is summarized, as every reader of the log may see it.
   */
  private async announce(
    engine: DeploymentEngine,
    previous: EngineHealth,
    message: string | null = engine.message,
  ): Promise<void> {
    this.gauge.set({ engine: engine.name }, HEALTH_VALUE[engine.health]);
    const event: NewCatalogEvent = {
      type: 'engine.health_changed',
      subject: engineSubject(engine.name),
      data: { engine: engine.name, previous, health: engine.health, message },
    };
    const appended = await this.events.appendEvent(event, { kind: 'engine_put', engine });
    this.feed.publish(appended.id);
  }

  private forget(name: string): void {
    this.history.delete(name);
    this.persistedAt.delete(name);
  }

  private changed(registration: boolean): void {
    this.epoch += 1;
    if (!registration) return;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.logger.warn({ err }, 'engine registry listener failed');
      }
    }
  }
}

function registration(e: DeploymentEngine): Partial<DeploymentEngine> {
  const { health, last_checked, last_latency_ms, consecutive_failures, message, ...rest } = e;
  return rest;
}

function sameRegistration(a: DeploymentEngine, b: DeploymentEngine): boolean {
  return JSON.stringify(sortKeys(registration(a))) === JSON.stringify(sortKeys(registration(b)));
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => [
        k,
        v && typeof v === 'object' && !Array.isArray(v) ? sortKeys(v as Record<string, unknown>) : v,
      ]),
  );
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = o[k];
  return out;
}

function copy(e: DeploymentEngine): DeploymentEngine {
  return { ...e, labels: { ...e.labels } };
}
