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
}

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
  server: { host: string; port: number; body_limit: number; shutdown_timeout_ms: number; trust_proxy: boolean };
  store: {
    type: 'memory' | 'sqlite' | 'dynamodb';
    /** sqlite: database file. */
    path: string;
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
  /** Incoming webhooks (`POST /v1/webhooks/{source}`): largest body read, in bytes. */
  webhooks: { body_limit: number };
  engines: EngineConfig[];
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
  };
  examples: { enabled: boolean; path: string };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; pretty: boolean };
}

/**
 * The engines a fresh server knows (DESIGN 10.10): the common ones, without endpoints, so never
 * probed and of health `unknown` (accepted with a warning). A configured `engines` list replaces
 * them, an empty one included.
 */
export function defaultEngines(): EngineConfig[] {
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
    server: { host: '127.0.0.1', port: 8080, body_limit: 1_048_576, shutdown_timeout_ms: 10_000, trust_proxy: false },
    store: { type: 'sqlite', path: './data/nestor.db', table: 'nestor', region: null, endpoint: null },
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
    webhooks: { body_limit: 1_048_576 },
    engines: defaultEngines(),
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
    },
    examples: { enabled: true, path: './examples' },
    log: { level: 'info', pretty: false },
  };
}
