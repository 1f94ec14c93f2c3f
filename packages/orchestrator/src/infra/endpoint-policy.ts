import { lookup as dnsLookup } from 'node:dns/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { withTimeout } from '../timeout.js';

/**
 * Why an address may not be probed. Anything an engine endpoint names is reached from inside the
 * orchestrator's network, so a caller who may register engines (or annotate a Service) could
 * otherwise make it knock on the metadata service, its own admin ports or private hosts.
 */
export type BlockedKind =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (CGNAT)'
  | 'unspecified'
  | 'metadata'
  | 'multicast or reserved';

/** Names of cloud metadata services, refused like their addresses (169.254.169.254, fd00:ec2::254). */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** Resolves a name to every address it has; `dns.lookup` with `all: true` in production. */
export type AddressLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: AddressLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export interface EndpointPolicyOptions {
  /**
   * Hosts that may be probed whatever they are, matched against the URL's host as written (a name
   * or an IP literal, case-insensitive, IPv6 with or without brackets); no wildcards.
   */
  allowHosts: readonly string[];
  lookup?: AddressLookup;
  /** Bound on one name resolution. */
  lookupTimeoutMs?: number;
  /** The config key refusals point to (default `engines.allow_hosts`). */
  allowHostsKey?: string;
  /** What the URL is called in refusals (default `endpoint`). */
  noun?: string;
}

/** A URL's host resolved and judged: the addresses a connection may use, each one checked. */
export interface ResolvedEndpoint {
  refusal: null;
  addresses: { address: string; family: number }[];
}

/**
 * Decides whether an engine endpoint may be probed. `refusal` looks at the URL alone (config
 * decoding uses it, synchronously); `check` also resolves a name and refuses it when any of its
 * addresses is internal, and runs again before every probe because DNS answers may change.
 */
export class EndpointPolicy {
  private readonly allow: Set<string>;
  private readonly lookup: AddressLookup;
  private readonly lookupTimeoutMs: number;
  private readonly allowHostsKey: string;
  private readonly noun: string;

  constructor(opts: EndpointPolicyOptions) {
    this.allow = new Set(opts.allowHosts.map(normalizeHost));
    this.lookup = opts.lookup ?? systemLookup;
    this.lookupTimeoutMs = opts.lookupTimeoutMs ?? 2_000;
    this.allowHostsKey = opts.allowHostsKey ?? 'engines.allow_hosts';
    this.noun = opts.noun ?? 'endpoint';
  }

  /** The reason `endpoint` is refused judging by its text alone, or null. */
  refusal(endpoint: string): string | null {
    const parsed = parseEndpoint(endpoint, this.noun);
    if (typeof parsed === 'string') return parsed;
    if (this.allowed(parsed)) return null;
    const kind = hostKind(parsed.hostname);
    return kind ? this.refused(parsed.written, kind) : null;
  }

  /**
   * The reason `endpoint` is refused, resolving its host when it is a name: one internal address
   * among the answers is enough. A name that does not resolve is not refused here (the probe
   * then fails to connect, which is the honest report).
   */
  async check(endpoint: string): Promise<string | null> {
    const parsed = parseEndpoint(endpoint, this.noun);
    if (typeof parsed === 'string') return parsed;
    if (this.allowed(parsed)) return null;
    const kind = hostKind(parsed.hostname);
    if (kind) return this.refused(parsed.written, kind);
    if (ipLiteral(parsed.hostname) !== null) return null;
    let addresses: { address: string }[];
    try {
      addresses = await withTimeout(this.lookup(parsed.hostname.replace(/\.$/, '')), this.lookupTimeoutMs, {
        component: 'engines',
        operation: 'ResolveEndpoint',
        message: `resolving ${parsed.hostname} took over ${this.lookupTimeoutMs} ms`,
      });
    } catch {
      return null;
    }
    for (const { address } of addresses) {
      const addressKind = classifyAddress(address);
      if (addressKind) return this.resolvedRefusal(parsed.written, address, addressKind);
    }
    return null;
  }

  /**
   * Judges `endpoint` and resolves its host once, for a caller that then connects to one of the
   * returned addresses rather than resolving again: a name that answered a public address to the
   * check cannot answer a private one to the connection (DNS rebinding). Hosts in the allow list
   * are resolved but not judged. Throws when the name does not resolve (in time).
   */
  async resolve(endpoint: string): Promise<ResolvedEndpoint | { refusal: string }> {
    const parsed = parseEndpoint(endpoint, this.noun);
    if (typeof parsed === 'string') return { refusal: parsed };
    const allowed = this.allowed(parsed);
    const kind = allowed ? null : hostKind(parsed.hostname);
    if (kind) return { refusal: this.refused(parsed.written, kind) };
    const literal = ipLiteral(parsed.hostname);
    if (literal !== null) return { refusal: null, addresses: [{ address: literal, family: isIPv6(literal) ? 6 : 4 }] };
    const addresses = await withTimeout(this.lookup(parsed.hostname.replace(/\.$/, '')), this.lookupTimeoutMs, {
      component: 'infra',
      operation: 'ResolveEndpoint',
      message: `resolving ${parsed.hostname} took over ${this.lookupTimeoutMs} ms`,
    });
    if (addresses.length === 0) throw new Error(`${parsed.hostname} has no address`);
    if (!allowed) {
      for (const { address } of addresses) {
        const addressKind = classifyAddress(address);
        if (addressKind) return { refusal: this.resolvedRefusal(parsed.written, address, addressKind) };
      }
    }
    return { refusal: null, addresses };
  }

  private allowed(parsed: ParsedEndpoint): boolean {
    return this.allow.has(normalizeHost(parsed.written));
  }

  private resolvedRefusal(written: string, address: string, kind: BlockedKind): string {
    return `host "${written}" resolves to ${address}, a ${kind} address; list it in ${this.allowHostsKey} to ${this.verb()} it`;
  }

  private verb(): string {
    return this.noun === 'endpoint' ? 'probe' : 'use';
  }

  private refused(written: string, kind: BlockedKind): string {
    return `host "${written}" is a ${kind} address; list it in ${this.allowHostsKey} to ${this.verb()} it`;
  }
}

interface ParsedEndpoint {
  /** The host exactly as the URL text spells it (lowercased, brackets removed). */
  written: string;
  /** The host as the WHATWG parser — and therefore fetch — understands it. */
  hostname: string;
}

/** Lowercase, without IPv6 brackets, so `[::1]` and `::1` in `allow_hosts` both match. */
function normalizeHost(host: string): string {
  const lower = host.trim().toLowerCase();
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
}

// Backslashes count as separators: WHATWG URLs treat `\` like `/` in http(s) authorities.
const AUTHORITY = /^[a-z][a-z0-9+.-]*:[/\\]{2}([^/\\?#]*)/i;

function parseEndpoint(endpoint: string, noun: string): ParsedEndpoint | string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `the ${noun} is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `the ${noun} must be http or https`;
  if (url.username !== '' || url.password !== '') {
    // A probe URL is shown to readers of the engine list; credentials in it would leak.
    return `the ${noun} must not carry credentials`;
  }
  const authority = AUTHORITY.exec(endpoint.trim())?.[1];
  if (authority === undefined || authority.includes('@')) return `the ${noun} must not carry credentials`;
  const written = /^\[[^\]]*\]|^[^:]*/.exec(authority)?.[0] ?? '';
  // The text and the parser must agree on the host, or an allow-listed spelling could smuggle another.
  let reparsed: string;
  try {
    reparsed = new URL(`http://${written}/`).hostname;
  } catch {
    return `the ${noun} host is not valid`;
  }
  if (reparsed !== url.hostname) return `the ${noun} host is ambiguous`;
  return { written: normalizeHost(written), hostname: url.hostname };
}

/** The blocked kind of a parsed URL hostname (name or literal), without resolving; null if none. */
function hostKind(hostname: string): BlockedKind | null {
  const literal = ipLiteral(hostname);
  if (literal !== null) return classifyAddress(literal);
  const name = hostname.replace(/\.$/, '');
  if (METADATA_NAMES.has(name)) return 'metadata';
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  return null;
}

/** The address inside a URL hostname when it is an IP literal (the parser already normalized IPv4 notations). */
function ipLiteral(hostname: string): string | null {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return hostname.slice(1, -1);
  return isIPv4(hostname) ? hostname : null;
}

/**
 * The blocked kind of one IPv4 or IPv6 address in any textual form `dns.lookup` or a URL produces,
 * or null for a public address. IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64,
 * 6to4, Teredo) are judged by the address they carry.
 */
export function classifyAddress(address: string): BlockedKind | null {
  if (isIPv4(address)) return classifyV4(address.split('.').map(Number) as [number, number, number, number]);
  if (!isIPv6(address)) return 'multicast or reserved';
  const g = parseV6(address);
  if (!g) return 'multicast or reserved';
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  const v4 = (hi: number, lo: number) => classifyV4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 && g6 === 0 && g7 === 1) return 'loopback';
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0xffff || g5 === 0)) return v4(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'private';
  if (g0 === 0x2002) return v4(g1, g2);
  if (g0 === 0x2001 && g1 === 0) return v4(g6 ^ 0xffff, g7 ^ 0xffff);
  if (g0 === 0xfd00 && g1 === 0x0ec2 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 && g6 === 0 && g7 === 0x254)
    return 'metadata';
  if ((g0 & 0xfe00) === 0xfc00 || (g0 & 0xffc0) === 0xfec0) return 'private';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xff00) === 0xff00) return 'multicast or reserved';
  return null;
}

function classifyV4([a, b, c, d]: [number, number, number, number]): BlockedKind | null {
  if ((a === 169 && b === 254 && c === 169 && d === 254) || (a === 100 && b === 100 && c === 100 && d === 200)) {
    return 'metadata';
  }
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'shared (CGNAT)';
  if (a === 169 && b === 254) return 'link-local';
  if ((a === 192 && b === 0 && c === 0) || (a === 198 && (b === 18 || b === 19)) || a >= 224) {
    return 'multicast or reserved';
  }
  return null;
}

/** Eight 16-bit groups of a valid IPv6 text (`::` compression and a trailing dotted IPv4 allowed). */
function parseV6(text: string): number[] | null {
  let s = text.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = (dotted[1] as string).split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, -(dotted[1] as string).length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const part = (p: string) => (p === '' ? [] : p.split(':').map((x) => Number.parseInt(x, 16)));
  const head = part(halves[0] as string);
  const tail = halves.length === 2 ? part(halves[1] as string) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return groups.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? groups : null;
}

/** Label a discovered engine carries to say where its endpoint came from (set by discovery, never copied). */
export const ENDPOINT_SOURCE_LABEL = 'nestor.dev/endpoint-source';

/**
 * Whether the policy judges this engine's endpoint. The one exception is the address Kubernetes
 * discovery derives from a Service itself (`<svc>.<ns>.svc`): it always resolves to a private
 * cluster IP and reaches only that Service. An endpoint taken from an annotation is judged.
 */
export function policyApplies(engine: { origin: string; labels: Record<string, string> }): boolean {
  return !(engine.origin === 'kubernetes' && engine.labels[ENDPOINT_SOURCE_LABEL] === 'service');
}
