import type { SrvRecord } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { create, NestorError } from '@nestor/sdk';
import type { EngineConfig } from '../config/config.js';
import { withTimeout } from '../timeout.js';
import { DISCOVERED_DEFAULTS, type DiscoveredDefaults, engineName, typeFromName } from './discovered.js';
import type { Discovery } from './interfaces.js';

const COMPONENT = 'engine-discovery';

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
