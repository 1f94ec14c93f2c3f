import type { EngineConfig } from '../config/config.js';
import { type EndpointPolicy, policyApplies } from '../infra/endpoint-policy.js';
import { type Logger, silentLogger } from '../observability/logging/logger.js';
import type { Metrics } from '../observability/metrics/interfaces.js';
import { noopMetrics } from '../observability/metrics/metrics.js';
import type { Discovery, EngineOrigin, Leadership } from './interfaces.js';
import type { ReconcileOutcome } from './registry.js';

/** Where reconciled engines go: the registry. */
interface DiscoveryTarget {
  reconcile(origin: EngineOrigin, found: EngineConfig[]): Promise<ReconcileOutcome>;
}

/** One source's outcome in one round. */
export interface DiscoveryReport {
  origin: EngineOrigin;
  ok: boolean;
  found: number;
  outcome: ReconcileOutcome | null;
  error: string | null;
}

export interface DiscoveryRunnerOptions {
  target: DiscoveryTarget;
  discoveries: Discovery[];
  intervalMs: number;
  logger?: Logger;
  metrics?: Metrics;
  /** Only the leader discovers, so that one disappearance yields one event. */
  leadership?: Leadership;
  /** Discovered endpoints it refuses are skipped (and logged), as if not found. */
  policy?: EndpointPolicy;
}

/** Runs every discovery source now and then every `intervalMs`, one round at a time. */
export class DiscoveryRunner {
  private readonly opts: DiscoveryRunnerOptions;
  private readonly logger: Logger;
  private readonly failures;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<DiscoveryReport[]> | null = null;
  private stopped = true;

  constructor(opts: DiscoveryRunnerOptions) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.failures = (opts.metrics ?? noopMetrics).counter(
      'nestor_engine_discovery_failures_total',
      'Engine discovery rounds that could not ask their source',
      ['origin'],
    );
  }

  start(): void {
    if (!this.stopped || this.opts.discoveries.length === 0) return;
    this.stopped = false;
    const loop = (delay: number) => {
      this.timer = setTimeout(() => {
        void this.runOnce().finally(() => {
          if (!this.stopped) loop(this.opts.intervalMs);
        });
      }, delay);
      this.timer.unref();
    };
    loop(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  /** One round over every source (joins a round in progress). Never throws. */
  runOnce(): Promise<DiscoveryReport[]> {
    if (this.running) return this.running;
    this.running = this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async admissible(origin: EngineOrigin, found: EngineConfig[]): Promise<EngineConfig[]> {
    const policy = this.opts.policy;
    if (!policy) return found;
    const out: EngineConfig[] = [];
    for (const engine of found) {
      const reason =
        engine.endpoint !== null && policyApplies({ origin, labels: engine.labels })
          ? await policy.check(engine.endpoint)
          : null;
      if (reason) {
        this.logger.warn(
          { origin, engine: engine.name, endpoint: engine.endpoint, reason },
          'discovered engine skipped',
        );
        continue;
      }
      out.push(engine);
    }
    return out;
  }

  private async round(): Promise<DiscoveryReport[]> {
    if (this.opts.leadership && !(await this.opts.leadership.isLeader())) return [];
    const reports: DiscoveryReport[] = [];
    for (const d of this.opts.discoveries) {
      try {
        const found = await this.admissible(d.origin, await d.discover());
        const outcome = await this.opts.target.reconcile(d.origin, found);
        if (outcome.added.length || outcome.missing.length) {
          this.logger.info({ origin: d.origin, ...outcome }, 'engine discovery changed the registry');
        }
        reports.push({ origin: d.origin, ok: true, found: found.length, outcome, error: null });
      } catch (err) {
        this.failures.inc({ origin: d.origin });
        const message = err instanceof Error ? err.message : String(err);
        this.logger.warn({ err, origin: d.origin }, 'engine discovery failed; keeping the engines it found before');
        reports.push({ origin: d.origin, ok: false, found: 0, outcome: null, error: message });
      }
    }
    return reports;
  }
}
