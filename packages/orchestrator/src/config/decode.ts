import { EndpointPolicy } from '../infra/endpoint-policy.js';
import { checkConfig, configError, durationMs, keyPath, timerMs } from './check.js';
import {
  type Config,
  DEFAULT_MAX_ORPHAN_RATIO,
  defaultConfig,
  type SourceConfig,
  SYNC_LIMIT_DEFAULTS,
  type TokenConfig,
} from './config.js';
import { decodeEngine } from './engine-config.js';
import { type ConfigFile, ConfigFileSchema, EnginesSection, type SourceInput, type TokenInput } from './schema.js';

/**
 * Checks every key against `ConfigFileSchema`, applies the rules that span keys and fills the
 * defaults. Exported for tests and `nestor serve --check-config`.
 */
export function decodeConfig(raw: Record<string, unknown>): Config {
  const f = checkConfig<ConfigFile>(ConfigFileSchema, raw, '');
  const c = defaultConfig();

  if (f.server) {
    const s = f.server;
    c.server.host = s.host ?? c.server.host;
    c.server.port = s.port ?? c.server.port;
    c.server.body_limit = s.body_limit ?? c.server.body_limit;
    c.server.shutdown_timeout_ms =
      timerMs(s.shutdown_timeout, 'server.shutdown_timeout', 0) ?? c.server.shutdown_timeout_ms;
    c.server.trust_proxy = s.trust_proxy ?? c.server.trust_proxy;
    c.server.request_timeout_ms =
      timerMs(s.request_timeout, 'server.request_timeout', 100) ?? c.server.request_timeout_ms;
  }
  if (f.data_dir) {
    c.data_dir = f.data_dir;
    c.store.path = `${f.data_dir.replace(/\/$/, '')}/nestor.db`;
  }
  if (f.store) {
    const s = f.store;
    c.store.type = s.type ?? c.store.type;
    c.store.path = s.path ?? c.store.path;
    c.store.url = s.url ?? c.store.url;
    c.store.schema = s.schema ?? c.store.schema;
    c.store.pool_size = s.pool_size ?? c.store.pool_size;
    c.store.statement_timeout_ms =
      timerMs(s.statement_timeout, 'store.statement_timeout', 100) ?? c.store.statement_timeout_ms;
    c.store.connect_timeout_ms = timerMs(s.connect_timeout, 'store.connect_timeout', 0) ?? c.store.connect_timeout_ms;
    c.store.table = s.table ?? c.store.table;
    c.store.region = s.region ?? c.store.region;
    c.store.endpoint = s.endpoint ?? c.store.endpoint;
    if (!/^[a-z_][a-z0-9_]{0,50}$/.test(c.store.schema)) {
      throw configError('store.schema must be lower-case letters, digits and _ (at most 51)');
    }
  }
  if (c.store.type === 'postgres' && !c.store.url) {
    throw configError('store.url (NESTOR_STORE_URL) is required for the postgres store');
  }
  if (f.cache) {
    const s = f.cache;
    c.cache.enabled = s.enabled ?? c.cache.enabled;
    c.cache.max_bytes = s.max_bytes ?? c.cache.max_bytes;
    c.cache.ttl_ms = durationMs(s.ttl, 'cache.ttl') ?? c.cache.ttl_ms;
    c.cache.redis_url = s.redis_url ?? c.cache.redis_url;
    if (c.cache.redis_url !== null && !/^rediss?:\/\/[^\s]+$/.test(c.cache.redis_url)) {
      // Never echo the URL: it may carry the password.
      throw configError('cache.redis_url must be a redis:// or rediss:// (TLS) URL');
    }
    c.cache.redis_password_env = s.redis_password_env ?? c.cache.redis_password_env;
    c.cache.redis_signing_key_env = s.redis_signing_key_env ?? c.cache.redis_signing_key_env;
    c.cache.redis_tls_ca_file = s.redis_tls_ca_file ?? c.cache.redis_tls_ca_file;
  }
  if (f.auth) {
    c.auth.anonymous_read = f.auth.anonymous_read ?? c.auth.anonymous_read;
    c.auth.tokens = (f.auth.tokens ?? []).map((t, i) => decodeToken(t, `auth.tokens[${i}]`));
  }
  c.sources = (f.sources ?? []).map((s, i) => decodeSource(s, `sources[${i}]`));
  if (f.webhooks) decodeWebhooks(f.webhooks, c);
  if (f.audit) c.audit.retain_ms = durationMs(f.audit.retain, 'audit.retain') ?? c.audit.retain_ms;
  decodeEngines(raw.engines, c);
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
  if (f.discovery) {
    const d = f.discovery;
    c.discovery.interval_ms = timerMs(d.interval, 'discovery.interval', 100) ?? c.discovery.interval_ms;
    if (d.dns) c.discovery.dns = { domain: d.dns.domain };
    if (d.kubernetes) {
      const k = d.kubernetes;
      c.discovery.kubernetes = {
        enabled: k.enabled ?? true,
        namespace: k.namespace ?? null,
        api_url: k.api_url ?? null,
        label: k.label ?? c.discovery.kubernetes.label,
      };
    }
  }
  if (f.validation) {
    c.validation.unhealthy_engine = f.validation.unhealthy_engine ?? c.validation.unhealthy_engine;
    c.validation.cache_size = f.validation.cache_size ?? c.validation.cache_size;
  }
  if (f.events) {
    const e = f.events;
    c.events.retain = e.retain ?? c.events.retain;
    c.events.retain_age_ms = durationMs(e.retain_age, 'events.retain_age') ?? c.events.retain_age_ms;
    c.events.hard_cap = e.hard_cap ?? c.events.hard_cap;
    c.events.heartbeat_ms = timerMs(e.heartbeat, 'events.heartbeat', 100) ?? c.events.heartbeat_ms;
    c.events.client_buffer = e.client_buffer ?? c.events.client_buffer;
    c.events.compaction_interval_ms =
      timerMs(e.compaction_interval, 'events.compaction_interval', 100) ?? c.events.compaction_interval_ms;
    c.events.stall_timeout_ms = timerMs(e.stall_timeout, 'events.stall_timeout', 1000) ?? c.events.stall_timeout_ms;
    if (c.events.hard_cap < c.events.retain) throw configError('events.hard_cap must be at least events.retain');
  }
  if (f.examples) {
    c.examples.enabled = f.examples.enabled ?? c.examples.enabled;
    c.examples.path = f.examples.path ?? c.examples.path;
  }
  if (f.lifecycle) {
    c.lifecycle.purge_after_ms =
      durationMs(f.lifecycle.purge_after, 'lifecycle.purge_after') ?? c.lifecycle.purge_after_ms;
    c.lifecycle.purge_interval_ms =
      timerMs(f.lifecycle.purge_interval, 'lifecycle.purge_interval', 1000) ?? c.lifecycle.purge_interval_ms;
  }
  if (f.limits) {
    const l = f.limits;
    c.limits.sse.max_streams = l.sse?.max_streams ?? c.limits.sse.max_streams;
    c.limits.sse.per_client = l.sse?.per_client ?? c.limits.sse.per_client;
    c.limits.rate.max = l.rate?.max ?? c.limits.rate.max;
    c.limits.rate.window_ms = timerMs(l.rate?.window, 'limits.rate.window', 1000) ?? c.limits.rate.window_ms;
    c.limits.validate_batch = l.validate_batch ?? c.limits.validate_batch;
    c.limits.dependencies = l.dependencies ?? c.limits.dependencies;
  }
  if (f.log) {
    c.log.level = f.log.level ?? c.log.level;
    c.log.pretty = f.log.pretty ?? c.log.pretty;
  }
  return c;
}

/**
 * `engines` is either the list of engines or the mapping `{ allow_hosts, items }`. Endpoints that
 * point at internal addresses are refused here unless their host is allowed (docs/security.md).
 */
function decodeEngines(raw: unknown, c: Config): void {
  // Absent: the defaults (terraform, pulumi, crossplane); present, even empty or null: exactly this list.
  if (raw === undefined) return;
  let items: unknown = raw;
  let at = 'engines';
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const section = checkConfig<{ allow_hosts?: string[] }>(EnginesSection, raw, 'engines');
    c.engine_allow_hosts = section.allow_hosts ?? [];
    items = (raw as { items?: unknown }).items;
    at = 'engines.items';
  }
  if (items !== undefined) {
    if (items !== null && !Array.isArray(items)) throw configError(`${at} must be a list`);
    c.engines = (items ?? []).map((e, i) => decodeEngine(e, keyPath(at, i)));
  }
  const policy = new EndpointPolicy({ allowHosts: c.engine_allow_hosts });
  for (const [i, engine] of c.engines.entries()) {
    const reason = engine.endpoint === null ? null : policy.refusal(engine.endpoint);
    if (reason) throw configError(`${keyPath(at, i)}.endpoint: ${reason}`);
  }
}

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function decodeSource(s: SourceInput, at: string): SourceConfig {
  const key = (k: string) => keyPath(at, k);
  if (!NAME.test(s.name)) throw configError(`${key('name')} must be lowercase letters, digits and -`);
  const type = s.type ?? 'git';
  const url = s.url ?? null;
  const path = s.path ?? null;
  if (type === 'git' && !url) throw configError(`${key('url')} is required for a git source`);
  if (type === 'directory' && !path) throw configError(`${key('path')} is required for a directory source`);
  const credentials = url ? urlCredentials(url) : null;
  if (credentials) {
    // Config files are committed, copied and shown in tickets; a secret belongs in the environment.
    throw configError(
      `${key('url')} must not carry credentials (${credentials}); put the token in an environment variable and name it in ${key('token_env')}`,
    );
  }
  return {
    name: s.name,
    type,
    url,
    path,
    branch: s.branch ?? 'main',
    paths: s.paths ?? ['**/component.yaml', '**/*.component.yaml'],
    interval_ms: timerMs(s.interval, key('interval'), 0) ?? (type === 'git' ? 60_000 : 2_000),
    webhook_secret_env: s.webhook_secret_env ?? null,
    token_env: s.token_env ?? null,
    ssh_key_path: s.ssh_key_path ?? null,
    max_files: s.max_files ?? SYNC_LIMIT_DEFAULTS.max_files,
    max_bytes: s.max_bytes ?? SYNC_LIMIT_DEFAULTS.max_bytes,
    max_orphan_ratio: s.max_orphan_ratio ?? DEFAULT_MAX_ORPHAN_RATIO,
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

function decodeToken(t: TokenInput, at: string): TokenConfig {
  const key = (k: string) => keyPath(at, k);
  const token = t.token ?? null;
  const sha256 = t.sha256 ?? null;
  if (!token && !sha256) throw configError(`${key('token')} or ${key('sha256')} is required`);
  if (sha256 && !/^[0-9a-f]{64}$/.test(sha256))
    throw configError(`${key('sha256')} must be 64 lowercase hex characters`);
  const scopes = t.scopes ?? ['read'];
  for (const s of scopes) {
    if (s !== 'read' && s !== 'write' && s !== 'admin') throw configError(`${key('scopes')}: unknown scope "${s}"`);
  }
  return { name: t.name ?? 'config', token, sha256, scopes: scopes as TokenConfig['scopes'] };
}

/** The `webhooks` section: incoming bodies and outgoing deliveries. */
function decodeWebhooks(w: NonNullable<ConfigFile['webhooks']>, c: Config): void {
  c.webhooks.body_limit = w.body_limit ?? c.webhooks.body_limit;
  if (w.allow_hosts) {
    for (const [i, host] of w.allow_hosts.entries()) {
      // A host as a URL writes it: no scheme, path, port or wildcard, which would never match.
      if (!/^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:]*:[0-9a-fA-F:.]*|[A-Za-z0-9.-]+)$/.test(host.trim())) {
        throw configError(
          `webhooks.allow_hosts[${i}] must be a host name or IP address as written in a URL (no scheme, port or path)`,
        );
      }
    }
    c.webhooks.allow_hosts = w.allow_hosts.map((h) => h.trim());
  }
  c.webhooks.timeout_ms = timerMs(w.timeout, 'webhooks.timeout', 100) ?? c.webhooks.timeout_ms;
  const retryFor = durationMs(w.retry_for, 'webhooks.retry_for');
  if (retryFor !== undefined && (retryFor < 60_000 || retryFor > 7 * 86_400_000)) {
    throw configError('webhooks.retry_for must be from 1 minute to 7 days');
  }
  c.webhooks.retry_for_ms = retryFor ?? c.webhooks.retry_for_ms;
}
