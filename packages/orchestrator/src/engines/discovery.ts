import type { Config, EngineConfig } from '../config/config.js';
import { DnsSrvDiscovery } from './dns-discovery.js';
import type { Discovery } from './interfaces.js';
import { KubernetesDiscovery, kubernetesDiscoveryOptions } from './kubernetes-discovery.js';

/*
 * Engine discovery: where engines come from besides the API. The sources are `StaticDiscovery`
 * (the config file), `DnsSrvDiscovery` (dns-discovery.ts) and `KubernetesDiscovery`
 * (kubernetes-discovery.ts, over the small API client in kubernetes-client.ts); `DiscoveryRunner`
 * (discovery-runner.ts) runs them on the leader and reconciles the registry.
 */
// `main.ts` wires the runner from here with the sources.
export { DiscoveryRunner } from './discovery-runner.js';

/** The engines of the config file, as a discovery source that never changes. */
export class StaticDiscovery implements Discovery {
  readonly origin = 'config' as const;
  constructor(private readonly engines: EngineConfig[]) {}

  async discover(): Promise<EngineConfig[]> {
    return this.engines.map((e) => ({ ...e, labels: { ...e.labels } }));
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
