/**
 * The composition root: every dependency is constructed here with plain `new` and wired by hand.
 * `buildApp` is what `nestor serve` and the end-to-end tests call; nothing else reads config.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { create, type VersionInfo } from '@nestor/sdk';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { registerCatalogRoutes } from './api/handlers/catalog.js';
import { registerEngineRoutes } from './api/handlers/engines.js';
import { type ReadinessCheck, registerHealthRoutes } from './api/handlers/health.js';
import { registerSourceRoutes } from './api/handlers/sources.js';
import { registerEventRoutes } from './api/handlers/sse.js';
import { registerOperationsRoutes } from './api/handlers/version.js';
import { registerWebhookRoutes } from './api/handlers/webhooks.js';
import { generateToken, sha256Hex, TokenAuthenticator, type TokenRecord } from './api/middleware/auth.js';
import { securityHeaders } from './api/middleware/security-headers.js';
import { registerResponseCache } from './api/response-cache.js';
import { createServer } from './api/server.js';
import { CatalogManager } from './catalog/manager.js';
import { SourceManager } from './catalog/sources.js';
import type { Config } from './config/config.js';
import { DiscoveryRunner, discoveriesFromConfig } from './engines/discovery.js';
import { EndpointPolicy } from './engines/endpoint-policy.js';
import { HttpHealthChecker } from './engines/health.js';
import { LeaseLeadership } from './engines/leadership.js';
import { EngineRegistry } from './engines/registry.js';
import { CacheInvalidator } from './events/cache-invalidator.js';
import { LocalChangeFeed } from './events/change-feed.js';
import { EventCompactor } from './events/compaction.js';
import type { ChangeFeed } from './events/interfaces.js';
import { PostgresChangeFeed } from './events/postgres-feed.js';
import { RedisChangeFeed } from './events/redis-feed.js';
import { EventBroker } from './events/sse/server.js';
import { ensureDir } from './fs-utils.js';
import { RedisLink } from './infra/redis-link.js';
import type { Clock } from './observability/clock.js';
import { systemClock } from './observability/clock.js';
import { createLogger, type Logger } from './observability/logging/logger.js';
import { PromMetrics } from './observability/metrics/metrics.js';
import {
  TracingChangeFeed,
  TracingSharedCache,
  TracingStore,
  TracingValidator,
} from './observability/tracing/decorators.js';
import { registerTracingHooks } from './observability/tracing/http.js';
import { setUpTracing, traceLogFields } from './observability/tracing/tracing.js';
import { CachingStore } from './storage/cache/caching-store.js';
import type { CatalogRevision } from './storage/cache/interfaces.js';
import { RedisSharedCache } from './storage/cache/redis.js';
import type { CatalogStore } from './storage/interfaces.js';
import { LogHeadRevision } from './storage/log-head-revision.js';
import { MemoryStore } from './storage/memory/memory-store.js';
import { PostgresStore } from './storage/postgres/postgres-store.js';
import { SqliteStore } from './storage/sqlite/sqlite-store.js';
import { createValidator } from './validation/validator.js';
import { buildInfo } from './version.js';

export type { Config } from './config/config.js';
export { defaultConfig } from './config/config.js';
export { loadConfig } from './config/load.js';

/** Replacements for tests: a ready store, a logger, a clock. */
export interface AppOverrides {
  store?: CatalogStore;
  logger?: Logger;
  clock?: Clock;
  env?: Record<string, string | undefined>;
  /** Span exporter for tests (InMemorySpanExporter); switches tracing on like an OTLP endpoint. */
  spanExporter?: SpanExporter;
}

/** A wired orchestrator. `start()` begins background work; `close()` stops everything in reverse order. */
export interface App {
  config: Config;
  server: FastifyInstance;
  manager: CatalogManager;
  /** Git and directory sources (issue 5): status, syncs, polling. */
  sources: SourceManager;
  store: CatalogStore;
  feed: ChangeFeed;
  /** The SSE fan-out of the event log, and the retention that trims the log. */
  broker: EventBroker;
  compactor: EventCompactor;
  logger: Logger;
  version: VersionInfo;
  /** Set when no token was configured and a new admin token was generated: print it once. */
  generatedAdminToken: string | null;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Creates the configured storage backend (without caches). */
export async function createStore(config: Config, clock: Clock, logger?: Logger): Promise<CatalogStore> {
  switch (config.store.type) {
    case 'memory':
      return new MemoryStore({ clock });
    case 'sqlite':
      return new SqliteStore({ path: config.store.path, clock });
    case 'dynamodb': {
      const { DynamoStore } = await import('./storage/dynamodb/dynamo-store.js');
      return DynamoStore.fromConfig(config.store, { clock });
    }
    case 'postgres': {
      const { PostgresStore } = await import('./storage/postgres/postgres-store.js');
      return PostgresStore.open({
        url: config.store.url ?? '',
        schema: config.store.schema,
        poolSize: config.store.pool_size,
        statementTimeoutMs: config.store.statement_timeout_ms,
        connectTimeoutMs: config.store.connect_timeout_ms,
        clock,
        ...(logger
          ? {
              onRetry: (err: unknown, attempt: number, delayMs: number) =>
                logger.warn({ err, attempt, retryMs: delayMs }, 'PostgreSQL unreachable; retrying'),
            }
          : {}),
      });
    }
  }
}

export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const env = overrides.env ?? process.env;
  const clock = overrides.clock ?? systemClock;
  const version = buildInfo(env);
  // --- Tracing: on with OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT (or a test exporter); when off,
  // nothing below is wrapped or hooked, so it costs nothing.
  const tracing = setUpTracing({
    endpoint: env['OTEL_EXPORTER_OTLP_ENDPOINT'],
    tracesUrl: env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    exporter: overrides.spanExporter,
    serviceName: env['OTEL_SERVICE_NAME'] ?? 'nestor-orchestrator',
    serviceVersion: version.version,
  });
  const tracer = tracing.enabled ? tracing.tracer : null;
  // --- end tracing
  const logger =
    overrides.logger ?? createLogger({ level: config.log.level, ...(tracer ? { mixin: traceLogFields } : {}) });
  const metrics = new PromMetrics();
  const stoppers: (() => Promise<void> | void)[] = [() => tracing.shutdown()];

  const rawStore = overrides.store ?? (await createStore(config, clock, logger));
  const baseStore: CatalogStore = tracer
    ? new TracingStore({ inner: rawStore, tracer, system: config.store.type })
    : rawStore;
  stoppers.push(() => baseStore.close());
  // --- Redis (optional, `cache.redis_url`): shared L2 cache and cross-replica wake-ups. When it is
  // down, reads fall back to the store and the feed to polling the log; it heals by itself.
  const redisSecret = (key: string, name: string | null) => {
    if (!name) return undefined;
    const value = env[name];
    if (!value) logger.warn({ key, env: name }, 'the environment variable named by this cache key is empty or unset');
    return value || undefined;
  };
  const redisPassword = redisSecret('cache.redis_password_env', config.cache.redis_password_env);
  const redis = config.cache.redis_url
    ? new RedisLink({
        url: config.cache.redis_url,
        prefix: env['NESTOR_REDIS_PREFIX'] ?? 'nestor:',
        logger,
        ...(redisPassword ? { password: redisPassword } : {}),
        ...(config.cache.redis_tls_ca_file ? { tlsCa: readRedisCa(config.cache.redis_tls_ca_file) } : {}),
      })
    : null;
  if (redis) stoppers.push(() => redis.close());
  const redisSigningKey = redisSecret('cache.redis_signing_key_env', config.cache.redis_signing_key_env);
  const redisCache = (link: RedisLink) => {
    const cache = new RedisSharedCache({ link, logger, ...(redisSigningKey ? { signingKey: redisSigningKey } : {}) });
    return tracer ? new TracingSharedCache({ inner: cache, tracer }) : cache;
  };
  const cache = config.cache.enabled
    ? new CachingStore({
        inner: baseStore,
        maxBytes: config.cache.max_bytes,
        ttlMs: config.cache.ttl_ms,
        metrics,
        logger,
        ...(redis ? { shared: redisCache(redis) } : {}),
      })
    : null;
  const store: CatalogStore = cache ?? baseStore;

  // PostgreSQL wakes replicas itself: each append NOTIFYs at commit (no Redis needed for that).
  const pgFeed =
    rawStore instanceof PostgresStore && config.store.url
      ? new PostgresChangeFeed({
          url: config.store.url,
          channel: rawStore.channel,
          head: () => baseStore.headSequence(),
          logger,
        })
      : null;
  if (pgFeed) stoppers.push(() => pgFeed.close());
  const redisFeed =
    !pgFeed && redis ? new RedisChangeFeed({ link: redis, head: () => baseStore.headSequence(), logger }) : null;
  if (redisFeed) stoppers.push(() => redisFeed.close());
  let plainFeed: ChangeFeed;
  if (pgFeed) {
    plainFeed = pgFeed;
  } else if (redisFeed) {
    plainFeed = redisFeed;
  } else {
    // Without Redis the feed polls the log's head, so writes by other processes on the same store
    // (`nestor sync` next to a server, replicas sharing a database) still reach caches and streams.
    const localFeed = new LocalChangeFeed({ head: () => baseStore.headSequence(), logger });
    stoppers.push(() => localFeed.close());
    plainFeed = localFeed;
  }
  const feed: ChangeFeed = tracer ? new TracingChangeFeed({ inner: plainFeed, tracer }) : plainFeed;
  // --- end Redis
  // Writes made by other processes (replicas, `nestor sync`) reach the cache through the log. With
  // the cache on, the revision is the sequence up to which it reflects the log: held in memory (a
  // read costs no store round trip) and never ahead of the data this process serves.
  const invalidator = cache
    ? new CacheInvalidator({ cache, log: baseStore, logger, position: await baseStore.headSequence() })
    : null;
  invalidator?.follow(feed);
  if (invalidator) stoppers.push(() => invalidator.stop());
  const revision: CatalogRevision = cache ?? new LogHeadRevision({ log: baseStore });

  // --- Engines (issue 6): registrations live in the store (shared by replicas, refreshed from it);
  // one replica, the lease holder, probes and discovers. Stopped before the store closes.
  const endpointPolicy = new EndpointPolicy({ allowHosts: config.engine_allow_hosts });
  const engines = new EngineRegistry({ store, events: store, feed, clock, logger, metrics, policy: endpointPolicy });
  await engines.load(config.engines);
  const engineLeadership = new LeaseLeadership({
    store,
    name: 'engines',
    holder: randomUUID(),
    ttlMs: 15_000,
    logger,
  });
  const engineHealth = new HttpHealthChecker({
    targets: engines,
    metrics,
    logger,
    leadership: engineLeadership,
    policy: endpointPolicy,
  });
  const engineDiscovery = new DiscoveryRunner({
    target: engines,
    discoveries: discoveriesFromConfig(config, env),
    intervalMs: config.discovery.interval_ms,
    logger,
    metrics,
    leadership: engineLeadership,
    policy: endpointPolicy,
  });
  stoppers.push(async () => {
    await engineDiscovery.stop();
    await engineHealth.stop();
    engines.stopRefresh();
    await engineLeadership.release();
  });
  // --- end engines
  const plainValidator = createValidator({
    // Through the cache, stamped with the revision the invalidator settles at: one cache of
    // component data, and a stamp that every read of a validation reflects.
    reader: store,
    revision: invalidator ?? undefined,
    engines,
    unhealthyEngine: config.validation.unhealthy_engine,
    cacheSize: config.validation.cache_size,
    metrics,
    logger,
  });
  const validator = tracer ? new TracingValidator({ inner: plainValidator, tracer }) : plainValidator;
  const manager = new CatalogManager({ store, validator, feed, logger, metrics });

  const { auth, generatedAdminToken } = setUpAuth(config, logger);
  const server = await createServer({
    logger,
    metrics,
    auth,
    bodyLimit: config.server.body_limit,
    trustProxy: config.server.trust_proxy,
    requestTimeoutMs: config.server.request_timeout_ms,
    securityHeaders: await securityHeaders(),
    rateLimit: {
      max: config.limits.rate.max,
      windowMs: config.limits.rate.window_ms,
      redis: redis ? redis.client : null,
      prefix: env['NESTOR_REDIS_PREFIX'] ?? 'nestor:',
    },
    revision,
    version: version.version,
    ...(tracer ? { instrument: (app: FastifyInstance) => registerTracingHooks(app, tracer) } : {}),
  });
  // Serialized component reads, keyed by revision and the store cache's generation so that they
  // follow the store cache exactly; a quarter of `cache.max_bytes` on top of it, off with it.
  registerResponseCache(server, {
    maxBytes: cache ? Math.floor(config.cache.max_bytes / 4) : 0,
    ttlMs: config.cache.ttl_ms,
    revision,
  });
  const checks: ReadinessCheck[] = [{ name: 'store', check: () => baseStore.ping() }];
  if (redis) checks.push({ name: 'redis', optional: true, check: () => redis.check() });
  registerHealthRoutes(server, { checks });
  registerOperationsRoutes(server, { version, renderMetrics: () => metrics.render() });
  registerCatalogRoutes(server, {
    manager,
    limits: { validateBatch: config.limits.validate_batch, dependencies: config.limits.dependencies },
  });
  registerEngineRoutes(server, { engines });

  // Sources (issue 5): git and directory syncs, their status routes and webhooks. Stopped before
  // the store closes (stoppers run in reverse).
  const sources = SourceManager.fromConfig(config, {
    writer: manager,
    store,
    feed,
    logger,
    metrics,
    clock,
    env,
    tracer,
  });
  stoppers.push(() => sources.stop());
  registerSourceRoutes(server, { sources });
  await registerWebhookRoutes(server, { sources, logger, clock, bodyLimit: config.webhooks.body_limit });
  // Event stream: one broker tails the durable log for every SSE subscriber; compaction applies
  // retention (started by start(), stopped before the store closes).
  const broker = new EventBroker({
    log: baseStore,
    feed,
    logger,
    metrics,
    heartbeatMs: config.events.heartbeat_ms,
    clientBuffer: config.events.client_buffer,
    maxSubscribers: config.limits.sse.max_streams,
    perClient: config.limits.sse.per_client,
    stallTimeoutMs: config.events.stall_timeout_ms,
    clock,
  });
  registerEventRoutes(server, { broker });
  const compactor = new EventCompactor({
    log: baseStore,
    retain: config.events.retain,
    retainAgeMs: config.events.retain_age_ms,
    hardCap: config.events.hard_cap,
    intervalMs: config.events.compaction_interval_ms,
    oldestSubscriberPosition: () => broker.oldestSubscriberPosition(),
    logger,
    metrics,
    clock,
  });
  stoppers.push(() => compactor.stop());

  metrics.observableGauge('nestor_catalog_revision', 'Sequence of the newest catalog event', () =>
    store.headSequence(),
  );
  metrics.observableGauge(
    'nestor_components',
    'Distinct component names in the catalog',
    async () => (await store.listComponentNames()).length,
  );

  let started = false;
  return {
    config,
    server,
    manager,
    sources,
    store,
    feed,
    broker,
    compactor,
    logger,
    version,
    generatedAdminToken,
    async start() {
      if (started) return;
      started = true;
      await sources.start();
      compactor.start();
      engines.startRefresh(5_000);
      engineHealth.start();
      engineDiscovery.start();
    },
    async close() {
      await server.close();
      for (const stop of stoppers.reverse()) await stop();
    },
  };
}

function readRedisCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw create('invalid_request')
      .component('config')
      .operation('Load')
      .message(`cache.redis_tls_ca_file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
      .build();
  }
}

/**
 * Tokens from config and `NESTOR_API_TOKENS`, kept only as hashes. With none configured, the first
 * start generates an admin token, returns it once for the CLI to hand over, and keeps only its hash
 * under the data folder so later starts accept it without ever writing the token itself to disk.
 * The folder and the hash file are made private (0700 / 0600) even when they already existed with
 * looser modes: whoever can replace the hash holds an admin token.
 */
function setUpAuth(config: Config, logger: Logger): { auth: TokenAuthenticator; generatedAdminToken: string | null } {
  const records: TokenRecord[] = config.auth.tokens.map((t) => ({
    name: t.name,
    sha256: Buffer.from(t.sha256 ?? sha256Hex(t.token ?? ''), 'hex'),
    scopes: t.scopes,
  }));
  let generatedAdminToken: string | null = null;
  if (records.length === 0) {
    const hashFile = adminTokenHashFile(config);
    let hash: string | null = null;
    try {
      hash = readFileSync(hashFile, 'utf8').trim();
    } catch {
      hash = null;
    }
    if (!hash || !/^[0-9a-f]{64}$/.test(hash)) {
      generatedAdminToken = generateToken();
      hash = sha256Hex(generatedAdminToken);
      try {
        ensureDir(dirname(hashFile));
        writeFileSync(hashFile, `${hash}\n`, { mode: 0o600 });
      } catch (err) {
        logger.warn(
          { err, file: hashFile },
          'could not keep the generated admin token hash; it is valid until restart',
        );
      }
    }
    restrictModes(dirname(hashFile), hashFile, logger);
    records.push({ name: 'generated-admin', sha256: Buffer.from(hash, 'hex'), scopes: ['admin'] });
  }
  return {
    auth: new TokenAuthenticator({ tokens: records, anonymousRead: config.auth.anonymous_read }),
    generatedAdminToken,
  };
}

/** Where the generated admin token's hash is kept; `generatedAdminTokenFile` sits beside it. */
export function adminTokenHashFile(config: Config): string {
  return join(config.data_dir, 'admin-token.sha256');
}

function restrictModes(dir: string, file: string, logger: Logger): void {
  for (const [path, mode] of [
    [dir, 0o700],
    [file, 0o600],
  ] as const) {
    try {
      if ((statSync(path).mode & 0o777) !== mode) chmodSync(path, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      logger.warn(
        { err, path, mode: mode.toString(8) },
        'could not restrict the mode of the admin token hash or its folder',
      );
    }
  }
}
