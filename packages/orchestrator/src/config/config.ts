import type { ENGINE_TYPES } from '@nestor/sdk';

/** A git repository or a local folder of component files. */
export interface SourceConfig {
  name: string;
  type: 'git' | 'directory';
  /** git: https, ssh or file URL. */
  url: string | null;
  /** directory: the folder (relative to the working directory). */
  path: string | null;
  branch: string;
  /** Globs under the repository root. */
  paths: string[];
  /** Poll interval in ms; 0 disables polling (webhooks or manual syncs only). */
  interval_ms: number;
  /** Name of the environment variable holding the webhook secret (never the secret itself). */
  webhook_secret_env: string | null;
  /** Name of the environment variable holding an https token. */
  token_env: string | null;
  /** Private key for ssh URLs. */
  ssh_key_path: string | null;
  /** Most files matching `paths` a sync takes on; more fails the sync (default SYNC_LIMIT_DEFAULTS). */
  max_files?: number;
  /** Most bytes of matching files a sync takes on; more fails the sync (default SYNC_LIMIT_DEFAULTS). */
  max_bytes?: number;
  /**
   * A sync that would orphan more than this share (0..1) of the source's versions is blocked until
   * confirmed (default DEFAULT_MAX_ORPHAN_RATIO).
   */
  max_orphan_ratio?: number;
}

/** `sources[].max_orphan_ratio` when a source does not set it (DESIGN.md 10.3). */
export const DEFAULT_MAX_ORPHAN_RATIO = 0.5;

/** Bounds of one source sync when the source does not set its own (docs/security.md, "Git sync"). */
export const SYNC_LIMIT_DEFAULTS = { max_files: 20_000, max_bytes: 256 * 1024 * 1024 } as const;

export interface EngineConfig {
  name: string;
  type: (typeof ENGINE_TYPES)[number];
  endpoint: string | null;
  health_path: string | null;
  interval_ms: number;
  timeout_ms: number;
  failure_threshold: number;
  success_threshold: number;
  labels: Record<string, string>;
}

export interface TokenConfig {
  /** Display name for logs. */
  name: string;
  /** Either the token itself or its sha256 hex digest. */
  token: string | null;
  sha256: string | null;
  scopes: ('read' | 'write' | 'admin')[];
}

/** The whole configuration after defaults, file, environment and flags are merged. */
export interface Config {
  server: {
    host: string;
    port: number;
    body_limit: number;
    shutdown_timeout_ms: number;
    trust_proxy: boolean;
    /** A handler still running after this long is answered 503 `service_unavailable` (streams exempt). */
    request_timeout_ms: number;
  };
  store: {
    type: 'memory' | 'sqlite' | 'dynamodb' | 'postgres';
    /** sqlite: database file. */
    path: string;
    /** postgres: connection URL, schema, pool size, per-statement and startup limits. */
    url: string | null;
    schema: string;
    pool_size: number;
    statement_timeout_ms: number;
    connect_timeout_ms: number;
    /** dynamodb: table name, region and endpoint override. */
    table: string;
    region: string | null;
    endpoint: string | null;
  };
  /** Folder for the SQLite file, git clones and the generated admin token hash. */
  data_dir: string;
  cache: {
    enabled: boolean;
    max_bytes: number;
    ttl_ms: number;
    /** `redis://` or `rediss://` (TLS); user and password may be in the URL. */
    redis_url: string | null;
    /** Environment variable holding the Redis password (AUTH), when it is not in the URL. */
    redis_password_env: string | null;
    /** Environment variable holding the secret that signs shared cache entries (HMAC). */
    redis_signing_key_env: string | null;
    /** PEM file of the CA that signed Redis's TLS certificate (`rediss://`), when not a public one. */
    redis_tls_ca_file: string | null;
  };
  auth: { anonymous_read: boolean; tokens: TokenConfig[] };
  sources: SourceConfig[];
  /**
   * Webhooks. Incoming (`POST /v1/webhooks/{source}`): `body_limit`, the largest body read, in
   * bytes. Outgoing (`/v1/subscriptions`, DESIGN.md 10.6): `allow_hosts`, hosts (as written in the
   * URL) a subscription may name even though they are internal; `timeout_ms`, the bound on one
   * delivery attempt; `retry_for_ms`, how long an event is retried before the subscription is
   * disabled.
   */
  webhooks: { body_limit: number; allow_hosts: string[]; timeout_ms: number; retry_for_ms: number };
  /** Audit log (`GET /v1/audit`): entries older than `retain_ms` are deleted. */
  audit: { retain_ms: number };
  engines: EngineConfig[];
  /**
   * YAML `engines.allow_hosts` (the mapping form of `engines`): endpoint hosts, as written in the
   * URL, that may be probed although they are loopback, private, link-local or metadata addresses.
   */
  engine_allow_hosts: string[];
  discovery: {
    interval_ms: number;
    dns: { domain: string } | null;
    kubernetes: { enabled: boolean; namespace: string | null; api_url: string | null; label: string };
  };
  validation: { unhealthy_engine: 'error' | 'warn'; cache_size: number };
  events: {
    /** Events kept in the log (count). */
    retain: number;
    /** Events older than this are compacted (ms); null keeps by count only. */
    retain_age_ms: number | null;
    /** Hard cap: beyond it, events are dropped even if a subscriber has not read them. */
    hard_cap: number;
    heartbeat_ms: number;
    /** Events buffered per SSE client before it is dropped as too slow. */
    client_buffer: number;
    compaction_interval_ms: number;
    /** A stream that takes nothing for this long while it replays the log is dropped. */
    stall_timeout_ms: number;
  };
  examples: { enabled: boolean; path: string };
  /** Version lifecycle (docs/lifecycle.md). */
  lifecycle: {
    /** A deleted version can be restored for this long, then it is purged to a tombstone. */
    purge_after_ms: number;
    /** How often one replica looks for deleted versions to purge. */
    purge_interval_ms: number;
  };
  /** Per-caller cost caps (docs/security.md). */
  limits: {
    /** Concurrent event streams in all, and per token (anonymous callers: per IP). */
    sse: { max_streams: number; per_client: number };
    /** Requests per token (anonymous callers: per IP) in a window; `max: 0` turns the limit off. */
    rate: { max: number; window_ms: number };
    /** Most components one `POST /v1/validate` may carry. */
    validate_batch: number;
    /** Most direct dependencies one submitted component may declare. */
    dependencies: number;
  };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; pretty: boolean };
}

/**
 * The engines a fresh server knows (DESIGN 10.10): the common ones, without endpoints, so never
 * probed and of health `unknown` (accepted with a warning). A configured `engines` list replaces
 * them, an empty one included.
 */
function defaultEngines(): EngineConfig[] {
  return (['terraform', 'pulumi', 'crossplane'] as const).map((name) => ({
    name,
    type: name,
    endpoint: null,
    health_path: null,
    interval_ms: 10_000,
    timeout_ms: 2_000,
    failure_threshold: 3,
    success_threshold: 1,
    labels: {},
  }));
}

/** Defaults: an embedded SQLite store under ./data, examples loaded, listening on localhost:8080. */
export function defaultConfig(): Config {
  return {
    server: {
      host: '127.0.0.1',
      port: 8080,
      body_limit: 1_048_576,
      shutdown_timeout_ms: 10_000,
      trust_proxy: false,
      request_timeout_ms: 30_000,
    },
    store: {
      type: 'sqlite',
      path: './data/nestor.db',
      url: null,
      schema: 'nestor',
      pool_size: 10,
      statement_timeout_ms: 30_000,
      connect_timeout_ms: 30_000,
      table: 'nestor',
      region: null,
      endpoint: null,
    },
    data_dir: './data',
    cache: {
      enabled: true,
      max_bytes: 64 * 1024 * 1024,
      ttl_ms: 300_000,
      redis_url: null,
      redis_password_env: null,
      redis_signing_key_env: null,
      redis_tls_ca_file: null,
    },
    auth: { anonymous_read: true, tokens: [] },
    sources: [],
    webhooks: { body_limit: 1_048_576, allow_hosts: [], timeout_ms: 10_000, retry_for_ms: 24 * 3_600_000 },
    audit: { retain_ms: 90 * 24 * 3_600_000 },
    engines: defaultEngines(),
    // Empty: `npm start` runs the examples with engines that have no endpoint, so nothing needs it.
    engine_allow_hosts: [],
    discovery: {
      interval_ms: 60_000,
      dns: null,
      kubernetes: { enabled: false, namespace: null, api_url: null, label: 'nestor.dev/engine' },
    },
    validation: { unhealthy_engine: 'error', cache_size: 10_000 },
    events: {
      retain: 100_000,
      retain_age_ms: null,
      hard_cap: 1_000_000,
      heartbeat_ms: 15_000,
      client_buffer: 1_000,
      compaction_interval_ms: 60_000,
      stall_timeout_ms: 30_000,
    },
    examples: { enabled: true, path: './examples' },
    lifecycle: { purge_after_ms: 30 * 24 * 3_600_000, purge_interval_ms: 3_600_000 },
    limits: {
      sse: { max_streams: 10_000, per_client: 50 },
      rate: { max: 600, window_ms: 60_000 },
      validate_batch: 100,
      dependencies: 100,
    },
    log: { level: 'info', pretty: false },
  };
}
