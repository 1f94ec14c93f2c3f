import { type DeploymentEngine, type EngineHealth, type EngineType, notFound } from '@nestor/sdk';
import { type EndpointPolicy, policyApplies } from '../infra/endpoint-policy.js';
import { type Logger, silentLogger } from '../observability/logging/logger.js';
import type { Metrics } from '../observability/metrics/interfaces.js';
import { noopMetrics } from '../observability/metrics/metrics.js';
import type {
  HealthChecker,
  HealthVerdict,
  Leadership,
  ProbeFailure,
  ProbeResult,
  ProbeTargets,
} from './interfaces.js';

/**
 * Health path probed when an engine sets none. Crossplane and the Pulumi Kubernetes operator are
 * controller-runtime managers, whose `/readyz` says whether they can take work; Terraform runners
 * (Atlantis, TFC agents behind a shim) and custom engines conventionally answer `/healthz`.
 */
export const DEFAULT_HEALTH_PATHS: Record<EngineType, string> = {
  crossplane: '/readyz',
  pulumi: '/readyz',
  terraform: '/healthz',
  custom: '/healthz',
};

/** Bytes of a probe response that are read at most; the rest is discarded unread. */
const DEFAULT_PROBE_BODY_LIMIT = 64 * 1024;
const MESSAGE_SNIPPET = 200;

/** The URL a probe requests: the endpoint (without trailing slash) plus the health path. */
export function probeUrl(engine: Pick<DeploymentEngine, 'endpoint' | 'health_path' | 'type'>): string | null {
  if (!engine.endpoint) return null;
  const path = engine.health_path ?? DEFAULT_HEALTH_PATHS[engine.type];
  return `${engine.endpoint.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

export interface ProbeOptions {
  bodyLimitBytes?: number;
  /** Wall clock for the `at` timestamp. */
  now?: () => Date;
  /** Aborts the probe early (shutdown); it then ends as a `timeout` failure. */
  signal?: AbortSignal;
}

/**
 * One HTTP GET of the engine's health URL. A 2xx answer is healthy, as Kubernetes HTTP probes
 * judge it; redirects are not followed (a 3xx is a failure, so a redirect loop costs one request);
 * the whole exchange, body included, is bounded by the engine's timeout and the body by a size cap.
 * Never throws: every failure is a result.
 */
export async function probeEngine(
  engine: Pick<DeploymentEngine, 'endpoint' | 'health_path' | 'type' | 'timeout_ms'>,
  opts: ProbeOptions = {},
): Promise<ProbeResult> {
  const at = (opts.now ?? (() => new Date()))().toISOString();
  const url = probeUrl(engine);
  const started = performance.now();
  const done = (ok: boolean, status: number | null, failure: ProbeFailure | null, message: string): ProbeResult => ({
    at,
    ok,
    status,
    latency_ms: Math.round((performance.now() - started) * 10) / 10,
    failure,
    message,
  });
  if (!url) return done(false, null, 'connection', 'no endpoint');
  try {
    const res = await fetch(url, {
      method: 'GET',
      redirect: 'manual',
      headers: { accept: 'application/json, text/plain;q=0.9, */*;q=0.1', 'user-agent': 'nestor-orchestrator' },
      signal: opts.signal
        ? AbortSignal.any([AbortSignal.timeout(engine.timeout_ms), opts.signal])
        : AbortSignal.timeout(engine.timeout_ms),
    });
    const body = await readCapped(res, opts.bodyLimitBytes ?? DEFAULT_PROBE_BODY_LIMIT);
    if (res.status >= 200 && res.status < 300) return done(true, res.status, null, `HTTP ${res.status}`);
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      return done(
        false,
        res.status,
        'redirect',
        `HTTP ${res.status} redirect${location ? ` to ${snippet(location)}` : ''}; probes do not follow redirects`,
      );
    }
    return done(false, res.status, 'status', `HTTP ${res.status}${body ? `: ${body}` : ''}`);
  } catch (err) {
    const [failure, message] = classify(err, engine.timeout_ms);
    return done(false, null, failure, message);
  }
}

/**
 * A probe described by its outcome alone: what anonymous readers and the event log get, since the
 * full message can hold the engine's response body, a redirect target or an internal address.
 */
export function probeSummary(p: Pick<ProbeResult, 'failure' | 'status'>): string {
  switch (p.failure) {
    case null:
    case 'status':
      return `HTTP ${p.status}`;
    case 'redirect':
      return `HTTP ${p.status} redirect (not followed)`;
    case 'timeout':
      return 'no answer within the timeout';
    case 'protocol':
      return 'not an HTTP answer';
    case 'refused':
      return 'refused by the endpoint policy';
    default:
      return 'connection failed';
  }
}

/** Reads at most `limit` bytes and returns a printable snippet; cancels the rest of the stream. */
async function readCapped(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = limit - total;
      chunks.push(value.byteLength > room ? value.subarray(0, room) : value);
      total += Math.min(value.byteLength, room);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return snippet(Buffer.concat(chunks).toString('utf8'));
}

function snippet(text: string): string {
  // Control characters would garble logs and JSON viewers; \p{Cc} names them without literal escapes.
  const flat = text.replace(/\p{Cc}+/gu, ' ').trim();
  return flat.length > MESSAGE_SNIPPET ? `${flat.slice(0, MESSAGE_SNIPPET)}…` : flat;
}

function classify(err: unknown, timeoutMs: number): [ProbeFailure, string] {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return ['timeout', `no answer within ${timeoutMs} ms`];
  const code = e?.cause?.code ?? '';
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  if (code.startsWith('HPE_') || code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return ['protocol', `not an HTTP answer: ${snippet(detail)}`];
  }
  return ['connection', `${code ? `${code}: ` : ''}${snippet(detail)}`];
}

/**
 * The threshold rule of Kubernetes probes: any health becomes `healthy` after `success_threshold`
 * consecutive successes and `unhealthy` after `failure_threshold` consecutive failures; in between
 * it keeps its current value (so a fresh engine stays `unknown` until a threshold is reached).
 */
export function nextVerdict(
  current: HealthVerdict,
  ok: boolean,
  thresholds: Pick<DeploymentEngine, 'failure_threshold' | 'success_threshold'>,
): HealthVerdict {
  const successes = ok ? current.consecutive_successes + 1 : 0;
  const failures = ok ? 0 : current.consecutive_failures + 1;
  let health: EngineHealth = current.health;
  if (ok && successes >= thresholds.success_threshold) health = 'healthy';
  if (!ok && failures >= thresholds.failure_threshold) health = 'unhealthy';
  return { health, consecutive_failures: failures, consecutive_successes: successes };
}

/** `interval` spread by ±15 % so that engines registered together drift apart. */
export function jitteredDelay(intervalMs: number, random: () => number = Math.random): number {
  return Math.max(1, Math.round(intervalMs * (0.85 + 0.3 * random())));
}

/** The delay before an engine's first probe: soon, but spread over up to one interval (at most 1 s). */
export function initialDelay(intervalMs: number, random: () => number = Math.random): number {
  return Math.round(Math.min(intervalMs, 1000) * random());
}

export interface HttpHealthCheckerOptions {
  targets: ProbeTargets;
  metrics?: Metrics;
  logger?: Logger;
  /** Source of jitter; tests pass a fixed one. */
  random?: () => number;
  now?: () => Date;
  bodyLimitBytes?: number;
  /**
   * When several replicas share a store, only the leader probes; the others adopt the health it
   * persists (the registry's refresh). Without it, this process always probes.
   */
  leadership?: Leadership;
  /** Asked before every probe (names are resolved each time); a refusal is a failed probe. */
  policy?: EndpointPolicy;
}

interface Schedule {
  /** Endpoint, path and timing the schedule was made for; a change restarts it. */
  key: string;
  timer: NodeJS.Timeout | null;
  inFlight: Promise<ProbeResult> | null;
  verdict: HealthVerdict;
}

/** Probes every engine with an endpoint on its own jittered schedule. */
export class HttpHealthChecker implements HealthChecker {
  private readonly targets: ProbeTargets;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly now: () => Date;
  private readonly bodyLimitBytes: number;
  private readonly leadership: Leadership | undefined;
  private readonly policy: EndpointPolicy | undefined;
  private readonly schedules = new Map<string, Schedule>();
  private readonly duration;
  private readonly failures;
  private unsubscribe: (() => void) | null = null;
  private running = false;
  private shutdown = new AbortController();

  constructor(opts: HttpHealthCheckerOptions) {
    this.targets = opts.targets;
    this.logger = opts.logger ?? silentLogger;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? (() => new Date());
    this.bodyLimitBytes = opts.bodyLimitBytes ?? DEFAULT_PROBE_BODY_LIMIT;
    this.leadership = opts.leadership;
    this.policy = opts.policy;
    const metrics = opts.metrics ?? noopMetrics;
    this.duration = metrics.histogram(
      'nestor_engine_probe_duration_seconds',
      'Duration of engine health probes',
      ['engine'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    this.failures = metrics.counter('nestor_engine_probe_failures_total', 'Failed engine health probes', [
      'engine',
      'reason',
    ]);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.shutdown = new AbortController();
    this.unsubscribe = this.targets.subscribe(() => this.reconcile());
    this.reconcile();
  }

  async stop(): Promise<void> {
    this.running = false;
    // Probes in flight end now instead of at their timeout, and are not recorded.
    this.shutdown.abort();
    this.unsubscribe?.();
    this.unsubscribe = null;
    const inFlight: Promise<unknown>[] = [];
    for (const s of this.schedules.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
      if (s.inFlight) inFlight.push(s.inFlight);
    }
    this.schedules.clear();
    await Promise.allSettled(inFlight);
  }

  async probeNow(name: string): Promise<ProbeResult | null> {
    const engine = this.targets.snapshot().find((e) => e.name === name);
    if (!engine || !probeable(engine)) return null;
    let schedule = this.schedules.get(name);
    if (!schedule) {
      schedule = this.newSchedule(engine);
      if (this.running) this.schedules.set(name, schedule);
    }
    return this.probe(name, schedule);
  }

  /** Starts schedules for new engines, restarts changed ones and drops removed ones. */
  private reconcile(): void {
    if (!this.running) return;
    const seen = new Set<string>();
    for (const engine of this.targets.snapshot()) {
      if (!probeable(engine)) continue;
      seen.add(engine.name);
      const existing = this.schedules.get(engine.name);
      if (existing && existing.key === scheduleKey(engine)) continue;
      if (existing?.timer) clearTimeout(existing.timer);
      const schedule = this.newSchedule(engine);
      this.schedules.set(engine.name, schedule);
      this.arm(engine.name, schedule, initialDelay(engine.interval_ms, this.random));
    }
    for (const [name, schedule] of this.schedules) {
      if (seen.has(name)) continue;
      if (schedule.timer) clearTimeout(schedule.timer);
      this.schedules.delete(name);
    }
  }

  private newSchedule(engine: DeploymentEngine): Schedule {
    return {
      key: scheduleKey(engine),
      timer: null,
      inFlight: null,
      verdict: { health: engine.health, consecutive_failures: engine.consecutive_failures, consecutive_successes: 0 },
    };
  }

  private arm(name: string, schedule: Schedule, delayMs: number): void {
    schedule.timer = setTimeout(() => {
      schedule.timer = null;
      void this.tick(name, schedule);
    }, delayMs);
    schedule.timer.unref();
  }

  private async tick(name: string, schedule: Schedule): Promise<void> {
    try {
      if (!this.leadership || (await this.leadership.isLeader())) {
        await this.probe(name, schedule);
      } else {
        // Another replica probes; start from its verdict should this one take over.
        const engine = this.targets.snapshot().find((e) => e.name === name);
        if (engine) schedule.verdict = this.newSchedule(engine).verdict;
      }
    } catch (err) {
      this.logger.warn({ err, engine: name }, 'engine probe could not be recorded');
    }
    const engine = this.targets.snapshot().find((e) => e.name === name);
    // The schedule may have been replaced or dropped while the probe ran.
    if (this.running && engine && this.schedules.get(name) === schedule) {
      this.arm(name, schedule, jitteredDelay(engine.interval_ms, this.random));
    }
  }

  /** Runs one probe, or joins the one in flight, so an engine is never probed twice at once. */
  private probe(name: string, schedule: Schedule): Promise<ProbeResult> {
    if (schedule.inFlight) return schedule.inFlight;
    const run = async (): Promise<ProbeResult> => {
      const engine = this.targets.snapshot().find((e) => e.name === name);
      if (!engine)
        throw notFound('engine_not_found', 'engines', 'ProbeEngine', `engine ${name} is no longer registered`);
      const signal = this.running ? this.shutdown.signal : undefined;
      const result =
        (await this.refusedProbe(engine)) ??
        (await probeEngine(engine, { bodyLimitBytes: this.bodyLimitBytes, now: this.now, signal }));
      if (signal?.aborted) return result;
      this.duration.observe({ engine: name }, result.latency_ms / 1000);
      if (!result.ok) this.failures.inc({ engine: name, reason: result.failure ?? 'connection' });
      schedule.verdict = nextVerdict(schedule.verdict, result.ok, engine);
      await this.targets.recordProbe(name, result, schedule.verdict);
      return result;
    };
    const p = run().finally(() => {
      schedule.inFlight = null;
    });
    schedule.inFlight = p;
    return p;
  }

  private async refusedProbe(engine: DeploymentEngine): Promise<ProbeResult | null> {
    if (!this.policy || !engine.endpoint || !policyApplies(engine)) return null;
    const at = this.now().toISOString();
    const reason = await this.policy.check(engine.endpoint);
    if (!reason) return null;
    this.logger.warn({ engine: engine.name, endpoint: engine.endpoint, reason }, 'engine probe refused');
    return { at, ok: false, status: null, latency_ms: 0, failure: 'refused', message: `probe refused: ${reason}` };
  }
}

function probeable(engine: DeploymentEngine): boolean {
  return engine.endpoint !== null && !engine.missing;
}

function scheduleKey(e: DeploymentEngine): string {
  return JSON.stringify([
    e.endpoint,
    e.health_path,
    e.type,
    e.interval_ms,
    e.timeout_ms,
    e.failure_threshold,
    e.success_threshold,
  ]);
}
