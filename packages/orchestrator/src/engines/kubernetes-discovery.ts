import { readFileSync } from 'node:fs';
import { ENGINE_TYPES, type EngineType } from '@nestor/sdk';
import type { Config, EngineConfig } from '../config/config.js';
import { ENDPOINT_SOURCE_LABEL } from '../infra/endpoint-policy.js';
import { DISCOVERED_DEFAULTS, type DiscoveredDefaults, engineName, typeFromName } from './discovered.js';
import type { Discovery } from './interfaces.js';
import { type KubernetesApi, KubernetesClient, type KubernetesConnection, type Service } from './kubernetes-client.js';

export interface KubernetesDiscoveryOptions extends KubernetesConnection {
  /** Null lists Services in every namespace the account may read. */
  namespace: string | null;
  /** Label whose presence marks an engine Service; its value may name the engine type. */
  label: string;
  timeoutMs?: number;
  /** Cap on one response body. */
  maxBytes?: number;
  defaults?: DiscoveredDefaults;
  /** The API client; a `KubernetesClient` on `apiUrl` when absent. */
  api?: KubernetesApi;
}

/** Annotations a Service may carry to shape its engine. */
const K8S_ANNOTATIONS = {
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
  private readonly api: KubernetesApi;

  constructor(opts: KubernetesDiscoveryOptions) {
    this.opts = opts;
    this.defaults = opts.defaults ?? DISCOVERED_DEFAULTS;
    this.api = opts.api ?? new KubernetesClient(opts);
  }

  async discover(): Promise<EngineConfig[]> {
    const services = await this.api.listServices(this.opts.namespace, this.opts.label);
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
}

/** Where the service-account files live inside a pod. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

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
