import type { SrvRecord } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { create, ENGINE_TYPES, type EngineType, NestorError } from '@nestor/sdk';
import type { Config, EngineConfig } from '../config/config.js';
import { ENDPOINT_SOURCE_LABEL, type EndpointPolicy, policyApplies } from '../infra/endpoint-policy.js';
import { type Logger, silentLogger } from '../observability/logging/logger.js';
import type { Metrics } from '../observability/metrics/interfaces.js';
import { noopMetrics } from '../observability/metrics/metrics.js';
import { withTimeout } from '../timeout.js';
import type { Discovery, EngineOrigin, Leadership } from './interfaces.js';
import type { ReconcileOutcome } from './registry.js';

const COMPONENT = 'engine-discovery';
const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Probe settings given to discovered engines, which carry none of their own. */
export interface DiscoveredDefaults {
  interval_ms: number;
  timeout_ms: number;
  failure_threshold: number;
  success_threshold: number;
}

export const DISCOVERED_DEFAULTS: DiscoveredDefaults = {
  interval_ms: 10_000,
  timeout_ms: 2_000,
  failure_threshold: 3,
  success_threshold: 1,
};

/** The engines of the config file, as a discovery source that never changes. */
export class StaticDiscovery implements Discovery {
  readonly origin = 'config' as const;
  constructor(private readonly engines: EngineConfig[]) {}

  async discover(): Promise<EngineConfig[]> {
    return this.engines.map((e) => ({ ...e, labels: { ...e.labels } }));
  }
}

/** `dns.resolveSrv`'s shape, so tests can answer with fixed records. */
export type SrvResolver = (hostname: string) => Promise<SrvRecord[]>;

export interface DnsSrvDiscoveryOptions {
  /** Records are looked up at `_nestor-engine._tcp.<domain>`. */
  domain: string;
  resolve?: SrvResolver;
  /** Bound on one lookup, retries included. */
  timeoutMs?: number;
  /** `http` unless the engines answer TLS. */
  scheme?: 'http' | 'https';
  defaults?: DiscoveredDefaults;
}

/**
 * Engines announced as DNS SRV records. Each record's target becomes `<scheme>://<target>:<port>`;
 * the engine is named after the target's first label, and typed after it when that label contains
 * `crossplane`, `pulumi` or `terraform` (otherwise `custom`). NXDOMAIN or no records means "none".
 */
export class DnsSrvDiscovery implements Discovery {
  readonly origin = 'dns' as const;
  readonly service: string;
  private readonly resolve: SrvResolver;
  private readonly timeoutMs: number;
  private readonly scheme: 'http' | 'https';
  private readonly defaults: DiscoveredDefaults;

  constructor(opts: DnsSrvDiscoveryOptions) {
    this.service = `_nestor-engine._tcp.${opts.domain.replace(/\.$/, '')}`;
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.scheme = opts.scheme ?? 'http';
    this.defaults = opts.defaults ?? DISCOVERED_DEFAULTS;
    if (opts.resolve) {
      this.resolve = opts.resolve;
    } else {
      const resolver = new Resolver({ timeout: Math.max(100, Math.floor(this.timeoutMs / 2)), tries: 2 });
      this.resolve = (name) => resolver.resolveSrv(name);
    }
  }

  async discover(): Promise<EngineConfig[]> {
    let records: SrvRecord[];
    try {
      records = await withTimeout(this.resolve(this.service), this.timeoutMs, {
        component: COMPONENT,
        operation: 'Discover',
        message: `DNS lookup of ${this.service} took over ${this.timeoutMs} ms`,
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
      if (NestorError.is(err)) throw err;
      throw create('service_unavailable')
        .component(COMPONENT)
        .operation('ResolveSrv')
        .message(`DNS lookup of ${this.service} failed: ${code ?? (err as Error).message}`)
        .cause(err)
        .build();
    }
    // Lowest priority first, so that a name two records share goes to the preferred target.
    const sorted = [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    const out = new Map<string, EngineConfig>();
    for (const r of sorted) {
      const target = r.name.replace(/\.$/, '').toLowerCase();
      const name = engineName(target.split('.')[0] ?? '');
      if (!name || out.has(name) || !Number.isInteger(r.port) || r.port <= 0 || r.port > 65535) continue;
      out.set(name, {
        name,
        type: typeFromName(name),
        endpoint: `${this.scheme}://${target}:${r.port}`,
        health_path: null,
        labels: { 'nestor.dev/discovered-by': 'dns', 'nestor.dev/srv-target': target },
        ...this.defaults,
      });
    }
    return [...out.values()];
  }
}

/** How to reach the Kubernetes API. */
export interface KubernetesConnection {
  /** e.g. `https://10.0.0.1:443`. */
  apiUrl: string;
  /** Service-account bearer token. */
  token: string | null;
  /** PEM of the API server's CA. */
  ca: string | null;
}

export interface KubernetesDiscoveryOptions extends KubernetesConnection {
  /** Null lists Services in every namespace the account may read. */
  namespace: string | null;
  /** Label whose presence marks an engine Service; its value may name the engine type. */
  label: string;
  timeoutMs?: number;
  /** Cap on one response body. */
  maxBytes?: number;
  defaults?: DiscoveredDefaults;
}

interface ServicePort {
  name?: string;
  port?: number;
}
interface Service {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { ports?: ServicePort[] };
}
interface ServiceList {
  items?: Service[];
  metadata?: { continue?: string };
}

/** Annotations a Service may carry to shape its engine. */
export const K8S_ANNOTATIONS = {
  name: 'nestor.dev/engine-name',
  endpoint: 'nestor.dev/endpoint',
  healthPath: 'nestor.dev/health-path',
} as const;

/**
 * Engines running as Kubernetes Services labelled `nestor.dev/engine` (the label's value is the
 * engine type when it is one). The endpoint is the Service's cluster DNS name and its `http` port
 * (else its first port), unless the `nestor.dev/endpoint` annotation says otherwise.
 */
export class KubernetesDiscovery implements Discovery {
  readonly origin = 'kubernetes' as const;
  private readonly opts: KubernetesDiscoveryOptions;
  private readonly defaults: DiscoveredDefaults;

  constructor(opts: KubernetesDiscoveryOptions) {
    this.opts = opts;
    this.defaults = opts.defaults ?? DISCOVERED_DEFAULTS;
  }

  async discover(): Promise<EngineConfig[]> {
    const base = this.opts.apiUrl.replace(/\/+$/, '');
    const path = this.opts.namespace
      ? `/api/v1/namespaces/${encodeURIComponent(this.opts.namespace)}/services`
      : '/api/v1/services';
    const services: Service[] = [];
    let cont: string | undefined;
    for (let page = 0; page < 100; page++) {
      const query = new URLSearchParams({ labelSelector: this.opts.label, limit: '500' });
      if (cont) query.set('continue', cont);
      const list = (await this.get(`${base}${path}?${query}`)) as ServiceList;
      if (!list || typeof list !== 'object' || (list.items !== undefined && !Array.isArray(list.items))) {
        throw unavailable('ListServices', 'the Kubernetes API answered something that is not a ServiceList');
      }
      services.push(...(list.items ?? []));
      cont = list.metadata?.continue || undefined;
      if (!cont) break;
    }
    const out = new Map<string, EngineConfig>();
    for (const svc of services) {
      const engine = this.toEngine(svc);
      if (engine && !out.has(engine.name)) out.set(engine.name, engine);
    }
    return [...out.values()];
  }

  private toEngine(svc: Service): EngineConfig | null {
    const meta = svc.metadata ?? {};
    const annotations = meta.annotations ?? {};
    const labels = meta.labels ?? {};
    const name = engineName(annotations[K8S_ANNOTATIONS.name] ?? meta.name ?? '');
    if (!name || !meta.name) return null;
    const labelValue = labels[this.opts.label] ?? '';
    const type: EngineType = (ENGINE_TYPES as readonly string[]).includes(labelValue)
      ? (labelValue as EngineType)
      : typeFromName(name);
    let endpoint = annotations[K8S_ANNOTATIONS.endpoint] ?? null;
    if (endpoint !== null && !/^https?:\/\/[^\s]+$/.test(endpoint)) return null;
    const endpointSource = endpoint === null ? 'service' : 'annotation';
    if (endpoint === null) {
      const ports = svc.spec?.ports ?? [];
      const port = ports.find((p) => p.name === 'http' || p.name === 'https') ?? ports[0];
      if (!port?.port) return null;
      const scheme = port.name === 'https' || port.port === 443 ? 'https' : 'http';
      endpoint = `${scheme}://${meta.name}.${meta.namespace ?? 'default'}.svc:${port.port}`;
    }
    const keep = Object.fromEntries(Object.entries(labels).filter(([, v]) => typeof v === 'string'));
    return {
      name,
      type,
      endpoint,
      health_path: annotations[K8S_ANNOTATIONS.healthPath] ?? null,
      // After `keep`, so a Service cannot claim its annotation endpoint is its own address.
      labels: {
        ...keep,
        'nestor.dev/discovered-by': 'kubernetes',
        'nestor.dev/namespace': meta.namespace ?? '',
        [ENDPOINT_SOURCE_LABEL]: endpointSource,
      },
      ...this.defaults,
    };
  }

  /** One GET with the bearer token, the cluster CA, a timeout and a body cap. */
  private get(url: string): Promise<unknown> {
    const timeoutMs = this.opts.timeoutMs ?? 5_000;
    const maxBytes = this.opts.maxBytes ?? 16 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const target = new URL(url);
      const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const headers: Record<string, string> = { accept: 'application/json' };
      if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
      const req = request(
        target,
        {
          method: 'GET',
          headers,
          signal: AbortSignal.timeout(timeoutMs),
          ...(this.opts.ca ? { ca: this.opts.ca } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              req.destroy(unavailable('ListServices', `the Kubernetes API answer exceeds ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', (err) => reject(err));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) {
              reject(unavailable('ListServices', `the Kubernetes API answered HTTP ${status}: ${text.slice(0, 200)}`));
              return;
            }
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(unavailable('ListServices', 'the Kubernetes API answered invalid JSON'));
            }
          });
        },
      );
      req.on('error', (err) => {
        if (NestorError.is(err)) reject(err);
        else if (err.name === 'TimeoutError' || err.name === 'AbortError') {
          reject(
            create('timeout')
              .component(COMPONENT)
              .operation('ListServices')
              .message(`the Kubernetes API did not answer within ${timeoutMs} ms`)
              .build(),
          );
        } else reject(unavailable('ListServices', `cannot reach the Kubernetes API: ${err.message}`, err));
      });
      req.end();
    });
  }
}

/** Where the service-account files live inside a pod. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The API connection for the configured Kubernetes discovery: `api_url` when set, otherwise the
 * in-cluster address from `KUBERNETES_SERVICE_HOST`/`_PORT`; the token, CA and default namespace
 * from the service-account folder when present. Null when discovery is off or no API is known.
 */
export function kubernetesDiscoveryOptions(
  k8s: Config['discovery']['kubernetes'],
  env: Record<string, string | undefined>,
  readFile: (path: string) => string | null = readOptional,
  dir = SERVICE_ACCOUNT_DIR,
): KubernetesDiscoveryOptions | null {
  if (!k8s.enabled) return null;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const apiUrl = k8s.api_url ?? (host ? `https://${host.includes(':') ? `[${host}]` : host}:${port}` : null);
  if (!apiUrl) return null;
  return {
    apiUrl,
    token: readFile(`${dir}/token`)?.trim() || null,
    ca: readFile(`${dir}/ca.crt`),
    namespace: k8s.namespace ?? (readFile(`${dir}/namespace`)?.trim() || null),
    label: k8s.label,
  };
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The discovery sources the config asks for: DNS SRV when `discovery.dns` is set, Kubernetes when
 * enabled and an API is known (`api_url` or the in-cluster environment). Config engines are not
 * among them: the registry loads those once at start.
 */
export function discoveriesFromConfig(
  config: Pick<Config, 'discovery'>,
  env: Record<string, string | undefined>,
  readFile?: (path: string) => string | null,
): Discovery[] {
  const out: Discovery[] = [];
  if (config.discovery.dns) out.push(new DnsSrvDiscovery({ domain: config.discovery.dns.domain }));
  const k8s = kubernetesDiscoveryOptions(config.discovery.kubernetes, env, readFile);
  if (k8s) out.push(new KubernetesDiscovery(k8s));
  return out;
}

/** Where reconciled engines go: the registry. */
export interface DiscoveryTarget {
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

/** A valid engine name from a host label or Service name, or null. */
function engineName(raw: string): string | null {
  const name = raw.toLowerCase().slice(0, 63).replace(/-+$/, '');
  return NAME.test(name) ? name : null;
}

function typeFromName(name: string): EngineType {
  return ENGINE_TYPES.find((t) => t !== 'custom' && name.includes(t)) ?? 'custom';
}

function unavailable(operation: string, message: string, cause?: unknown): NestorError {
  const b = create('service_unavailable').component(COMPONENT).operation(operation).message(message);
  if (cause !== undefined) b.cause(cause);
  return b.build();
}
