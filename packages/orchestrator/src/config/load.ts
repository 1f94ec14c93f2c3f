import { readFileSync, statSync } from 'node:fs';
import { create, ENGINE_TYPES, type NestorError } from '@nestor/sdk';
import { parseTokenList } from '../api/middleware/auth.js';
import { EndpointPolicy } from '../engines/endpoint-policy.js';
import { parseYamlBounded } from '../yaml/bounded-yaml.js';
import {
  type Config,
  defaultConfig,
  type EngineConfig,
  type SourceConfig,
  SYNC_LIMIT_DEFAULTS,
  type TokenConfig,
} from './config.js';
import { parseDuration } from './duration.js';

/** Command-line flags that override everything else. */
export interface ConfigFlags {
  config?: string | undefined;
  host?: string | undefined;
  port?: number | string | undefined;
  store?: string | undefined;
  dataDir?: string | undefined;
  examples?: boolean | undefined;
  logLevel?: string | undefined;
}

/**
 * Builds the configuration: defaults < YAML file < `NESTOR_*` environment < flags. Every problem is
 * an `invalid_request` error naming the key (`server.port`, `sources[1].url`, `NESTOR_SERVER_PORT`).
 */
export function loadConfig(flags: ConfigFlags, env: Record<string, string | undefined>): Config {
  let raw: Record<string, unknown> = {};
  if (flags.config) raw = readConfigFile(flags.config);
  applyEnv(raw, env);
  applyFlags(raw, flags);
  const config = decodeConfig(raw);
  if (env.NESTOR_API_TOKENS) {
    const parsed = wrap('NESTOR_API_TOKENS', () => parseTokenList(env.NESTOR_API_TOKENS ?? ''));
    for (const [i, t] of parsed.entries()) {
      config.auth.tokens.push({ name: `env-${i + 1}`, token: t.token, sha256: null, scopes: t.scopes });
    }
  }
  return config;
}

/** Largest config file read; a real one is a few KB. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function readConfigFile(path: string): Record<string, unknown> {
  const unreadable = (err: unknown) =>
    configError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw unreadable(err);
  }
  if (size > MAX_CONFIG_BYTES) {
    throw configError(`config file ${path} is ${size} bytes; the limit is ${MAX_CONFIG_BYTES} bytes`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw unreadable(err);
  }
  // Bounded like component files: a hostile config must not abort or stall the process.
  const { documents, problem, lineCounter } = parseYamlBounded(text);
  const at = (offset: number | null | undefined) => {
    if (offset === null || offset === undefined) return '';
    const { line, col } = lineCounter.linePos(offset);
    return ` at line ${line}, column ${col}`;
  };
  if (problem) throw configError(`config file ${path} is refused: ${problem.message}${at(problem.offset)}`);
  if (documents.length > 1) throw configError(`config file ${path} must hold one YAML document`);
  const [document] = documents;
  if (!document) return {};
  const [error] = document.errors;
  if (error) {
    const message = error.message.split('\n')[0] ?? error.message;
    throw configError(`config file ${path} is not valid YAML: ${message}${at(error.pos[0])}`);
  }
  let doc: unknown;
  try {
    doc = document.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw configError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw configError(`config file ${path} must be a YAML mapping`);
  return doc as Record<string, unknown>;
}

// `engine_allow_hosts` is written `engines.allow_hosts`, never as a section of its own.
const SECTIONS = new Set(Object.keys(defaultConfig()).filter((k) => k !== 'engine_allow_hosts'));

/** `NESTOR_SERVER_PORT=9090` → `server.port`; list sections take JSON (`NESTOR_SOURCES='[...]'`). */
function applyEnv(raw: Record<string, unknown>, env: Record<string, string | undefined>): void {
  const defaults = defaultConfig() as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('NESTOR_') || value === undefined) continue;
    const rest = key.slice('NESTOR_'.length).toLowerCase();
    if (rest === 'api_tokens' || rest.startsWith('build_')) continue;
    const section = [...SECTIONS].find((s) => rest === s || rest.startsWith(`${s}_`));
    if (!section) continue;
    const def = defaults[section];
    if (rest === section) {
      raw[section] = wrap(key, () => JSON.parse(value));
      continue;
    }
    const field = rest.slice(section.length + 1);
    if (section === 'engines' && field === 'allow_hosts') {
      // `engines` is a list, so its one setting lives in the mapping form: `{ allow_hosts, items }`.
      const current = raw.engines;
      raw.engines = Array.isArray(current) ? { items: current } : (current ?? {});
      (raw.engines as Record<string, unknown>).allow_hosts = value.split(',').map((h) => h.trim());
      continue;
    }
    if (typeof def !== 'object' || def === null || Array.isArray(def)) continue;
    raw[section] ??= {};
    const target = raw[section] as Record<string, unknown>;
    target[field] = envValue(value);
  }
}

function envValue(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value === 'null' || value === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

function applyFlags(raw: Record<string, unknown>, flags: ConfigFlags): void {
  const section = (name: string) => {
    raw[name] ??= {};
    return raw[name] as Record<string, unknown>;
  };
  if (flags.host !== undefined) section('server').host = flags.host;
  if (flags.port !== undefined)
    // Only plain digits become a number: Number('') is 0 and Number('1e3') is 1000.
    section('server').port =
      typeof flags.port === 'string' && /^\d{1,6}$/.test(flags.port) ? Number(flags.port) : flags.port;
  if (flags.store !== undefined) section('store').type = flags.store;
  if (flags.dataDir !== undefined) raw.data_dir = flags.dataDir;
  if (flags.examples === false) section('examples').enabled = false;
  if (flags.logLevel !== undefined) section('log').level = flags.logLevel;
}

/** Checks every key and fills defaults. Exported for tests and `nestor serve --check-config`. */
export function decodeConfig(raw: Record<string, unknown>): Config {
  const c = defaultConfig();
  const r = new Reader(raw, '');
  r.only([...SECTIONS]);

  const server = r.section('server');
  if (server) {
    server.only(['host', 'port', 'body_limit', 'shutdown_timeout', 'trust_proxy', 'request_timeout']);
    c.server.host = server.string('host') ?? c.server.host;
    c.server.port = server.int('port', 0, 65535) ?? c.server.port;
    c.server.body_limit = server.int('body_limit', 1024, 64 * 1024 * 1024) ?? c.server.body_limit;
    c.server.shutdown_timeout_ms = server.timer('shutdown_timeout', 0) ?? c.server.shutdown_timeout_ms;
    c.server.trust_proxy = server.bool('trust_proxy') ?? c.server.trust_proxy;
    c.server.request_timeout_ms = server.timer('request_timeout', 100) ?? c.server.request_timeout_ms;
  }
  const dataDir = r.string('data_dir');
  if (dataDir) {
    c.data_dir = dataDir;
    c.store.path = `${dataDir.replace(/\/$/, '')}/nestor.db`;
  }
  const store = r.section('store');
  if (store) {
    store.only([
      'type',
      'path',
      'url',
      'schema',
      'pool_size',
      'statement_timeout',
      'connect_timeout',
      'table',
      'region',
      'endpoint',
    ]);
    c.store.type = store.oneOf('type', ['memory', 'sqlite', 'dynamodb', 'postgres'] as const) ?? c.store.type;
    c.store.path = store.string('path') ?? c.store.path;
    c.store.url = store.nullableString('url') ?? c.store.url;
    c.store.schema = store.string('schema') ?? c.store.schema;
    c.store.pool_size = store.int('pool_size', 1, 1000) ?? c.store.pool_size;
    c.store.statement_timeout_ms = store.timer('statement_timeout', 100) ?? c.store.statement_timeout_ms;
    c.store.connect_timeout_ms = store.timer('connect_timeout', 0) ?? c.store.connect_timeout_ms;
    c.store.table = store.string('table') ?? c.store.table;
    c.store.region = store.nullableString('region') ?? c.store.region;
    c.store.endpoint = store.nullableString('endpoint') ?? c.store.endpoint;
    if (!/^[a-z_][a-z0-9_]{0,50}$/.test(c.store.schema)) {
      throw configError('store.schema must be lower-case letters, digits and _ (at most 51)');
    }
  }
  if (c.store.type === 'postgres' && !c.store.url) {
    throw configError('store.url (NESTOR_STORE_URL) is required for the postgres store');
  }
  const cache = r.section('cache');
  if (cache) {
    cache.only([
      'enabled',
      'max_bytes',
      'ttl',
      'redis_url',
      'redis_password_env',
      'redis_signing_key_env',
      'redis_tls_ca_file',
    ]);
    c.cache.enabled = cache.bool('enabled') ?? c.cache.enabled;
    c.cache.max_bytes = cache.int('max_bytes', 1024, 16 * 1024 ** 3) ?? c.cache.max_bytes;
    c.cache.ttl_ms = cache.duration('ttl') ?? c.cache.ttl_ms;
    c.cache.redis_url = cache.nullableString('redis_url') ?? c.cache.redis_url;
    if (c.cache.redis_url !== null && !/^rediss?:\/\/[^\s]+$/.test(c.cache.redis_url)) {
      // Never echo the URL: it may carry the password.
      throw configError(`${cache.at('redis_url')} must be a redis:// or rediss:// (TLS) URL`);
    }
    c.cache.redis_password_env = cache.nullableString('redis_password_env') ?? c.cache.redis_password_env;
    c.cache.redis_signing_key_env = cache.nullableString('redis_signing_key_env') ?? c.cache.redis_signing_key_env;
    c.cache.redis_tls_ca_file = cache.nullableString('redis_tls_ca_file') ?? c.cache.redis_tls_ca_file;
  }
  const auth = r.section('auth');
  if (auth) {
    auth.only(['anonymous_read', 'tokens']);
    c.auth.anonymous_read = auth.bool('anonymous_read') ?? c.auth.anonymous_read;
    c.auth.tokens = auth.list('tokens').map((t) => decodeToken(t));
  }
  c.sources = r.list('sources').map((s) => decodeSource(s));
  const webhooks = r.section('webhooks');
  if (webhooks) {
    webhooks.only(['body_limit']);
    c.webhooks.body_limit = webhooks.int('body_limit', 1024, 64 * 1024 * 1024) ?? c.webhooks.body_limit;
  }
  decodeEngines(r, c);
  for (const [what, list] of [
    ['sources', c.sources],
    ['engines', c.engines],
  ] as const) {
    const seen = new Set<string>();
    for (const item of list) {
      if (seen.has(item.name)) throw configError(`${what}: duplicate name "${item.name}"`);
      seen.add(item.name);
    }
  }
  const discovery = r.section('discovery');
  if (discovery) {
    discovery.only(['interval', 'dns', 'kubernetes']);
    c.discovery.interval_ms = discovery.timer('interval', 100) ?? c.discovery.interval_ms;
    const dns = discovery.section('dns');
    if (dns) {
      dns.only(['domain']);
      c.discovery.dns = { domain: dns.requiredString('domain') };
    }
    const k8s = discovery.section('kubernetes');
    if (k8s) {
      k8s.only(['enabled', 'namespace', 'api_url', 'label']);
      c.discovery.kubernetes = {
        enabled: k8s.bool('enabled') ?? true,
        namespace: k8s.nullableString('namespace') ?? null,
        api_url: k8s.nullableString('api_url') ?? null,
        label: k8s.string('label') ?? c.discovery.kubernetes.label,
      };
    }
  }
  const validation = r.section('validation');
  if (validation) {
    validation.only(['unhealthy_engine', 'cache_size']);
    c.validation.unhealthy_engine =
      validation.oneOf('unhealthy_engine', ['error', 'warn'] as const) ?? c.validation.unhealthy_engine;
    c.validation.cache_size = validation.int('cache_size', 0, 10_000_000) ?? c.validation.cache_size;
  }
  const events = r.section('events');
  if (events) {
    events.only([
      'retain',
      'retain_age',
      'hard_cap',
      'heartbeat',
      'client_buffer',
      'compaction_interval',
      'stall_timeout',
    ]);
    c.events.retain = events.int('retain', 1, 1_000_000_000) ?? c.events.retain;
    c.events.retain_age_ms = events.duration('retain_age') ?? c.events.retain_age_ms;
    c.events.hard_cap = events.int('hard_cap', 1, 1_000_000_000) ?? c.events.hard_cap;
    c.events.heartbeat_ms = events.timer('heartbeat', 100) ?? c.events.heartbeat_ms;
    c.events.client_buffer = events.int('client_buffer', 1, 1_000_000) ?? c.events.client_buffer;
    c.events.compaction_interval_ms = events.timer('compaction_interval', 100) ?? c.events.compaction_interval_ms;
    c.events.stall_timeout_ms = events.timer('stall_timeout', 1000) ?? c.events.stall_timeout_ms;
    if (c.events.hard_cap < c.events.retain) throw configError('events.hard_cap must be at least events.retain');
  }
  const lifecycle = r.section('lifecycle');
  if (lifecycle) {
    lifecycle.only(['purge_after', 'purge_interval']);
    c.lifecycle.purge_after_ms = lifecycle.duration('purge_after') ?? c.lifecycle.purge_after_ms;
    c.lifecycle.purge_interval_ms = lifecycle.timer('purge_interval', 1000) ?? c.lifecycle.purge_interval_ms;
  }
  const examples = r.section('examples');
  if (examples) {
    examples.only(['enabled', 'path']);
    c.examples.enabled = examples.bool('enabled') ?? c.examples.enabled;
    c.examples.path = examples.string('path') ?? c.examples.path;
  }
  const limits = r.section('limits');
  if (limits) {
    limits.only(['sse', 'rate', 'validate_batch', 'dependencies']);
    const sse = limits.section('sse');
    if (sse) {
      sse.only(['max_streams', 'per_client']);
      c.limits.sse.max_streams = sse.int('max_streams', 1, 1_000_000) ?? c.limits.sse.max_streams;
      c.limits.sse.per_client = sse.int('per_client', 1, 1_000_000) ?? c.limits.sse.per_client;
    }
    const rate = limits.section('rate');
    if (rate) {
      rate.only(['max', 'window']);
      c.limits.rate.max = rate.int('max', 0, 1_000_000_000) ?? c.limits.rate.max;
      c.limits.rate.window_ms = rate.timer('window', 1000) ?? c.limits.rate.window_ms;
    }
    c.limits.validate_batch = limits.int('validate_batch', 1, 10_000) ?? c.limits.validate_batch;
    c.limits.dependencies = limits.int('dependencies', 1, 10_000) ?? c.limits.dependencies;
  }
  const log = r.section('log');
  if (log) {
    log.only(['level', 'pretty']);
    c.log.level =
      log.oneOf('level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) ?? c.log.level;
    c.log.pretty = log.bool('pretty') ?? c.log.pretty;
  }
  return c;
}

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * `engines` is either the list of engines or the mapping `{ allow_hosts, items }`. Endpoints that
 * point at internal addresses are refused here unless their host is allowed (docs/security.md).
 */
function decodeEngines(r: Reader, c: Config): void {
  const raw = r.raw.engines;
  // Absent: the defaults (terraform, pulumi, crossplane); present, even empty: exactly this list.
  let list: Reader[] | null = null;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const section = r.section('engines') as Reader;
    section.only(['allow_hosts', 'items']);
    c.engine_allow_hosts = section.stringList('allow_hosts') ?? [];
    if (section.raw.items !== undefined) list = section.list('items');
  } else if (raw !== undefined) {
    list = r.list('engines');
  }
  if (list) c.engines = list.map((e) => decodeEngine(e));
  const policy = new EndpointPolicy({ allowHosts: c.engine_allow_hosts });
  for (const [i, engine] of c.engines.entries()) {
    const reason = engine.endpoint === null ? null : policy.refusal(engine.endpoint);
    if (reason) throw configError(`${list?.[i]?.at('endpoint') ?? `engines[${i}].endpoint`}: ${reason}`);
  }
}

function decodeSource(r: Reader): SourceConfig {
  r.only([
    'name',
    'type',
    'url',
    'path',
    'branch',
    'paths',
    'interval',
    'webhook_secret_env',
    'token_env',
    'ssh_key_path',
    'max_files',
    'max_bytes',
  ]);
  const name = r.requiredString('name');
  if (!NAME.test(name)) throw configError(`${r.at('name')} must be lowercase letters, digits and -`);
  const type = r.oneOf('type', ['git', 'directory'] as const) ?? 'git';
  const url = r.nullableString('url') ?? null;
  const path = r.nullableString('path') ?? null;
  if (type === 'git' && !url) throw configError(`${r.at('url')} is required for a git source`);
  if (type === 'directory' && !path) throw configError(`${r.at('path')} is required for a directory source`);
  if (url && urlCredentials(url)) {
    // Config files are committed, copied and shown in tickets; a secret belongs in the environment.
    throw configError(
      `${r.at('url')} must not carry credentials (${urlCredentials(url)}); put the token in an environment variable and name it in ${r.at('token_env')}`,
    );
  }
  const paths = r.stringList('paths') ?? ['**/component.yaml', '**/*.component.yaml'];
  return {
    name,
    type,
    url,
    path,
    branch: r.string('branch') ?? 'main',
    paths,
    interval_ms: r.timer('interval', 0) ?? (type === 'git' ? 60_000 : 2_000),
    webhook_secret_env: r.nullableString('webhook_secret_env') ?? null,
    token_env: r.nullableString('token_env') ?? null,
    ssh_key_path: r.nullableString('ssh_key_path') ?? null,
    max_files: r.int('max_files', 1, 10_000_000) ?? SYNC_LIMIT_DEFAULTS.max_files,
    max_bytes: r.int('max_bytes', 1024, 64 * 1024 ** 3) ?? SYNC_LIMIT_DEFAULTS.max_bytes,
  };
}

/**
 * Which credentials a repository URL carries, or null: any user info of an http(s) URL (a lone
 * user name there is usually a token), and a password in any other URL (`ssh://git@host` is fine).
 */
function urlCredentials(url: string): string | null {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/@]*)@/i.exec(url);
  if (!match) return null;
  const scheme = (match[1] ?? '').toLowerCase();
  const userinfo = match[2] ?? '';
  if (userinfo.includes(':')) return 'a password';
  if ((scheme === 'http' || scheme === 'https') && userinfo !== '') return 'a user name or token';
  return null;
}

const MAX_URL_LENGTH = 2048;
export const MIN_PROBE_INTERVAL_MS = 1_000;
export const MIN_PROBE_TIMEOUT_MS = 100;

/** Shared by config and `POST /v1/engines`. */
export function decodeEngine(r: Reader): EngineConfig {
  r.only([
    'name',
    'type',
    'endpoint',
    'health_path',
    'interval',
    'timeout',
    'failure_threshold',
    'success_threshold',
    'labels',
  ]);
  const name = r.requiredString('name');
  if (!NAME.test(name) || name.length > 63)
    throw configError(`${r.at('name')} must be lowercase letters, digits and -`);
  const endpoint = r.nullableString('endpoint') ?? null;
  if (endpoint !== null && endpoint.length > MAX_URL_LENGTH) {
    throw configError(`${r.at('endpoint')} is longer than ${MAX_URL_LENGTH} characters`);
  }
  if (endpoint !== null) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw configError(`${r.at('endpoint')} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw configError(`${r.at('endpoint')} must be http or https`);
  }
  const healthPath = r.nullableString('health_path') ?? null;
  if (healthPath !== null && healthPath.length > MAX_URL_LENGTH) {
    throw configError(`${r.at('health_path')} is longer than ${MAX_URL_LENGTH} characters`);
  }
  const d = defaultEngineConfig(name);
  return {
    name,
    type: r.oneOf('type', ENGINE_TYPES) ?? d.type,
    endpoint,
    health_path: healthPath,
    // Probes more often than once a second, or with a timeout too short to be met, only make load.
    interval_ms: r.timer('interval', MIN_PROBE_INTERVAL_MS) ?? d.interval_ms,
    timeout_ms: r.timer('timeout', MIN_PROBE_TIMEOUT_MS) ?? d.timeout_ms,
    failure_threshold: r.int('failure_threshold', 1, 100) ?? d.failure_threshold,
    success_threshold: r.int('success_threshold', 1, 100) ?? d.success_threshold,
    labels: r.stringMap('labels') ?? d.labels,
  };
}

/** An engine known only by name: no endpoint (never probed), default timings. */
export function defaultEngineConfig(name: string): EngineConfig {
  return {
    name,
    type: 'custom',
    endpoint: null,
    health_path: null,
    interval_ms: 10_000,
    timeout_ms: 2_000,
    failure_threshold: 3,
    success_threshold: 1,
    labels: {},
  };
}

function decodeToken(r: Reader): TokenConfig {
  r.only(['name', 'token', 'sha256', 'scopes']);
  const token = r.nullableString('token') ?? null;
  const sha256 = r.nullableString('sha256') ?? null;
  if (!token && !sha256) throw configError(`${r.at('token')} or ${r.at('sha256')} is required`);
  if (sha256 && !/^[0-9a-f]{64}$/.test(sha256))
    throw configError(`${r.at('sha256')} must be 64 lowercase hex characters`);
  const scopes = r.stringList('scopes') ?? ['read'];
  for (const s of scopes) {
    if (s !== 'read' && s !== 'write' && s !== 'admin') throw configError(`${r.at('scopes')}: unknown scope "${s}"`);
  }
  return { name: r.string('name') ?? 'config', token, sha256, scopes: scopes as TokenConfig['scopes'] };
}

/** Longest delay a Node timer honours (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** Walks a decoded YAML/JSON mapping and names the exact key in every error. */
export class Reader {
  constructor(
    readonly raw: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  static of(value: unknown, prefix: string): Reader {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw configError(`${prefix || 'configuration'} must be a mapping`);
    }
    return new Reader(value as Record<string, unknown>, prefix);
  }

  at(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  only(keys: string[]): void {
    for (const key of Object.keys(this.raw)) {
      if (!keys.includes(key)) throw configError(`unknown config key "${this.at(key)}" (known: ${keys.join(', ')})`);
    }
  }

  section(key: string): Reader | null {
    const v = this.raw[key];
    if (v === undefined || v === null) return null;
    return Reader.of(v, this.at(key));
  }

  list(key: string): Reader[] {
    const v = this.raw[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw configError(`${this.at(key)} must be a list`);
    return v.map((item, i) => Reader.of(item, `${this.at(key)}[${i}]`));
  }

  string(key: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '') throw configError(`${this.at(key)} must be a non-empty string`);
    return v;
  }

  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined) throw configError(`${this.at(key)} is required`);
    return v;
  }

  /** undefined when absent; null when explicitly null. */
  nullableString(key: string): string | null | undefined {
    if (this.raw[key] === null) return null;
    return this.string(key);
  }

  int(key: string, min: number, max: number): number | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw configError(`${this.at(key)} must be an integer from ${min} to ${max}`);
    }
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw configError(`${this.at(key)} must be true or false`);
    return v;
  }

  duration(key: string): number | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    const ms = parseDuration(v);
    if (ms === null)
      throw configError(`${this.at(key)} must be a duration such as 500ms, 30s, 5m, 1h or a number of seconds`);
    return ms;
  }

  /**
   * A duration that drives a timer: Node runs a timer longer than MAX_TIMER_MS after 1 ms, and a
   * period near zero spins, so both ends are refused rather than turned into a busy loop.
   */
  timer(key: string, minMs: number): number | undefined {
    const ms = this.duration(key);
    if (ms !== undefined && (ms < minMs || ms > MAX_TIMER_MS)) {
      throw configError(`${this.at(key)} must be from ${minMs} ms to 24 days`);
    }
    return ms;
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !values.includes(v as T)) {
      throw configError(`${this.at(key)} must be one of ${values.join(', ')}`);
    }
    return v as T;
  }

  stringList(key: string): string[] | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== '')) {
      throw configError(`${this.at(key)} must be a list of strings`);
    }
    return v as string[];
  }

  stringMap(key: string): Record<string, string> | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((s) => typeof s === 'string')) {
      throw configError(`${this.at(key)} must be a mapping of strings`);
    }
    return v as Record<string, string>;
  }
}

function configError(message: string): NestorError {
  return create('invalid_request').component('config').operation('LoadConfig').message(message).build();
}

function wrap<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw configError(`${what}: ${(err as Error).message}`);
  }
}
