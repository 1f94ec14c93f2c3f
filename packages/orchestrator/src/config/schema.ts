import { type Static, Type } from '@sinclair/typebox';
import { Bool, Duration, Int, NonEmpty, OneOf, Section, StringList } from './fields.js';

/**
 * The config file's shape (docs/configuration.md): every section and key it may hold and their
 * types. Ranges across keys, URL shapes and defaults are applied by `decodeConfig`.
 */
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const Server = Section({
  host: Type.Optional(NonEmpty()),
  port: Type.Optional(Int(0, 65535)),
  body_limit: Type.Optional(Int(1024, 64 * MiB)),
  shutdown_timeout: Type.Optional(Duration()),
  trust_proxy: Type.Optional(Bool()),
  request_timeout: Type.Optional(Duration()),
});

const Store = Section({
  type: Type.Optional(OneOf(['memory', 'sqlite', 'dynamodb', 'postgres'] as const)),
  path: Type.Optional(NonEmpty()),
  url: Type.Optional(NonEmpty()),
  schema: Type.Optional(NonEmpty()),
  pool_size: Type.Optional(Int(1, 1000)),
  statement_timeout: Type.Optional(Duration()),
  connect_timeout: Type.Optional(Duration()),
  table: Type.Optional(NonEmpty()),
  region: Type.Optional(NonEmpty()),
  endpoint: Type.Optional(NonEmpty()),
});

const Cache = Section({
  enabled: Type.Optional(Bool()),
  max_bytes: Type.Optional(Int(1024, 16 * GiB)),
  ttl: Type.Optional(Duration()),
  redis_url: Type.Optional(NonEmpty()),
  redis_password_env: Type.Optional(NonEmpty()),
  redis_signing_key_env: Type.Optional(NonEmpty()),
  redis_tls_ca_file: Type.Optional(NonEmpty()),
});

const TokenSchema = Section({
  name: Type.Optional(NonEmpty()),
  token: Type.Optional(NonEmpty()),
  sha256: Type.Optional(NonEmpty()),
  scopes: Type.Optional(StringList()),
});

const Auth = Section({
  anonymous_read: Type.Optional(Bool()),
  tokens: Type.Optional(Type.Array(TokenSchema)),
});

const SourceSchema = Section({
  name: NonEmpty(),
  type: Type.Optional(OneOf(['git', 'directory'] as const)),
  url: Type.Optional(NonEmpty()),
  path: Type.Optional(NonEmpty()),
  branch: Type.Optional(NonEmpty()),
  paths: Type.Optional(StringList()),
  interval: Type.Optional(Duration()),
  webhook_secret_env: Type.Optional(NonEmpty()),
  token_env: Type.Optional(NonEmpty()),
  ssh_key_path: Type.Optional(NonEmpty()),
  max_files: Type.Optional(Int(1, 10_000_000)),
  max_bytes: Type.Optional(Int(1024, 64 * GiB)),
  max_orphan_ratio: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});

const Discovery = Section({
  interval: Type.Optional(Duration()),
  dns: Type.Optional(Section({ domain: NonEmpty() })),
  kubernetes: Type.Optional(
    Section({
      enabled: Type.Optional(Bool()),
      namespace: Type.Optional(NonEmpty()),
      api_url: Type.Optional(NonEmpty()),
      label: Type.Optional(NonEmpty()),
    }),
  ),
});

const Events = Section({
  retain: Type.Optional(Int(1, 1_000_000_000)),
  retain_age: Type.Optional(Duration()),
  hard_cap: Type.Optional(Int(1, 1_000_000_000)),
  heartbeat: Type.Optional(Duration()),
  client_buffer: Type.Optional(Int(1, 1_000_000)),
  compaction_interval: Type.Optional(Duration()),
  stall_timeout: Type.Optional(Duration()),
});

const Limits = Section({
  sse: Type.Optional(
    Section({ max_streams: Type.Optional(Int(1, 1_000_000)), per_client: Type.Optional(Int(1, 1_000_000)) }),
  ),
  rate: Type.Optional(Section({ max: Type.Optional(Int(0, 1_000_000_000)), window: Type.Optional(Duration()) })),
  validate_batch: Type.Optional(Int(1, 10_000)),
  dependencies: Type.Optional(Int(1, 10_000)),
});

/**
 * The whole file. `engines` is a list or the mapping `{ allow_hosts, items }`, checked by
 * `decodeEngines` (`EnginesSection` or a list of `EngineSchema`).
 */
export const ConfigFileSchema = Section({
  server: Type.Optional(Server),
  store: Type.Optional(Store),
  data_dir: Type.Optional(NonEmpty()),
  cache: Type.Optional(Cache),
  auth: Type.Optional(Auth),
  sources: Type.Optional(Type.Array(SourceSchema)),
  webhooks: Type.Optional(
    Section({
      body_limit: Type.Optional(Int(1024, 64 * MiB)),
      allow_hosts: Type.Optional(StringList()),
      timeout: Type.Optional(Duration()),
      retry_for: Type.Optional(Duration()),
    }),
  ),
  audit: Type.Optional(Section({ retain: Type.Optional(Duration()) })),
  engines: Type.Optional(Type.Unknown()),
  discovery: Type.Optional(Discovery),
  validation: Type.Optional(
    Section({
      unhealthy_engine: Type.Optional(OneOf(['error', 'warn'] as const)),
      cache_size: Type.Optional(Int(0, 10_000_000)),
    }),
  ),
  events: Type.Optional(Events),
  examples: Type.Optional(Section({ enabled: Type.Optional(Bool()), path: Type.Optional(NonEmpty()) })),
  lifecycle: Type.Optional(
    Section({ purge_after: Type.Optional(Duration()), purge_interval: Type.Optional(Duration()) }),
  ),
  limits: Type.Optional(Limits),
  log: Type.Optional(
    Section({
      level: Type.Optional(OneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const)),
      pretty: Type.Optional(Bool()),
    }),
  ),
});
export type ConfigFile = Static<typeof ConfigFileSchema>;
export type SourceInput = Static<typeof SourceSchema>;
export type TokenInput = Static<typeof TokenSchema>;

/** `engines` as a mapping: the hosts endpoints may name whatever they are, and the list. */
export const EnginesSection = Section({
  allow_hosts: Type.Optional(StringList()),
  items: Type.Optional(Type.Unknown()),
});
