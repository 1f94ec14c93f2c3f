/**
 * The catalog core: everything that reads and writes the catalog, wired once. `buildApp` (the
 * server), `nestor sync`, `nestor validate` and the benches all start from here, so a store, a cache
 * or a feed is put together the same way wherever the catalog is used.
 */
import { readFileSync } from 'node:fs';
import { create } from '@nestor/sdk';
import type { Tracer } from '@opentelemetry/api';
import { ImpactAnnotatingValidator, ImpactIndex, ImpactService } from './catalog/impact.js';
import { CatalogManager } from './catalog/manager.js';
import type { Config } from './config/config.js';
import type { EngineReader } from './engines/interfaces.js';
import { EngineRegistry } from './engines/registry.js';
import { CacheInvalidator } from './events/cache-invalidator.js';
import { LocalChangeFeed } from './events/change-feed.js';
import type { ChangeFeed } from './events/interfaces.js';
import { LogFollower } from './events/log-follower.js';
import { PostgresChangeFeed } from './events/postgres-feed.js';
import { RedisChangeFeed } from './events/redis-feed.js';
import { TracingChangeFeed } from './events/tracing-feed.js';
import { EndpointPolicy } from './infra/endpoint-policy.js';
import { RedisLink } from './infra/redis-link.js';
import type { Clock } from './observability/clock.js';
import { systemClock } from './observability/clock.js';
import type { Logger } from './observability/logging/logger.js';
import { PromMetrics } from './observability/metrics/metrics.js';
import { SearchProjection } from './search/projection.js';
import type { SourceManager } from './sources/manager.js';
import { sourceManagerFromConfig } from './sources/wiring.js';
import { CachingStore } from './storage/cache/caching-store.js';
import type { CatalogRevision } from './storage/cache/interfaces.js';
import { RedisSharedCache } from './storage/cache/redis.js';
import { TracingSharedCache } from './storage/cache/tracing-cache.js';
import type { CatalogStore, SchemaMigrations } from './storage/interfaces.js';
import { LogHeadRevision } from './storage/log-head-revision.js';
import { MemoryStore } from './storage/memory/memory-store.js';
import { PostgresStore } from './storage/postgres/postgres-store.js';
import { SqliteStore } from './storage/sqlite/sqlite-store.js';
import { TracingStore } from './storage/tracing-store.js';
import type { ComponentValidator } from './validation/interfaces.js';
import { TracingValidator } from './validation/tracing-validator.js';
import { createValidator } from './validation/validator.js';

/** What a caller may hand in instead of what config would build. */
export interface CoreOverrides {
  /** A ready store (tests, `nestor validate`'s memory catalog); closed with the core. */
  store?: CatalogStore;
  logger: Logger;
  clock?: Clock;
  env?: Record<string, string | undefined>;
  /** Tracing on: the store, shared cache, feed and validator are wrapped in spans. */
  tracer?: Tracer | null;
  metrics?: PromMetrics;
  /** The engines validation consults, instead of the store's registry (`nestor validate --engine`). */
  engines?: EngineReader;
}

/** The wired catalog. `close()` stops what it started, in reverse order, the store last. */
export interface CatalogCore {
  /** The store as configured, before tracing or caching. */
  rawStore: CatalogStore;
  /** The store with tracing, without the cache: the log, health checks, validation. */
  baseStore: CatalogStore;
  /** What request handlers and writers use: `baseStore` behind the cache when it is on. */
  store: CatalogStore;
  /** The cache in front of the store, or null when `cache.enabled` is false. */
  cache: CachingStore | null;
  /** The catalog revision this process serves (`X-Catalog-Revision`) and its cache generation. */
  revision: CatalogRevision;
  redis: RedisLink | null;
  feed: ChangeFeed;
  endpointPolicy: EndpointPolicy;
  engines: EngineRegistry;
  /** Impact, diff and resolution (issue 16), answered from a reverse-dependency index. */
  impact: ImpactService;
  /** List and search (DESIGN.md 10.1): one projection of the log, whatever the store. */
  search: SearchProjection;
  validator: ComponentValidator;
  /** Reads ahead what validations need (the normalised-name index), for the server's background work. */
  warmValidation(): Promise<void>;
  manager: CatalogManager;
  sources: SourceManager;
  metrics: PromMetrics;
  /**
   * Resolves true once the store answers (at once for every store but a PostgreSQL one still
   * being reached); configured engines are loaded by then. False when the core closed first.
   */
  whenStoreReady(): Promise<boolean>;
  /** True when the store was still being reached when the core was built. */
  storePending: boolean;
  close(): Promise<void>;
}

export async function buildCatalogCore(config: Config, overrides: CoreOverrides): Promise<CatalogCore> {
  const env = overrides.env ?? process.env;
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger;
  const tracer = overrides.tracer ?? null;
  const metrics = overrides.metrics ?? new PromMetrics();
  const stoppers: (() => Promise<void> | void)[] = [];

  const rawStore = overrides.store ?? (await createStore(config, clock, logger));
  const baseStore: CatalogStore = tracer
    ? new TracingStore({ inner: rawStore, tracer, system: config.store.type })
    : rawStore;
  stoppers.push(() => baseStore.close());
  // A PostgreSQL store still reaching its database: what needs the store at start waits for it.
  const pendingStore = rawStore instanceof PostgresStore && !rawStore.isReady() ? rawStore : null;
  // Followers of a store not reached yet start at 0: their caches are empty, so replaying is safe.
  const startPosition = () => (pendingStore ? Promise.resolve(0) : baseStore.headSequence());
  // Redis (optional, `cache.redis_url`): shared L2 cache and cross-replica wake-ups. When it is
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
  // Writes made by other processes (replicas, `nestor sync`) reach the cache through the log. With
  // the cache on, the revision is the sequence up to which it reflects the log: held in memory (a
  // read costs no store round trip) and never ahead of the data this process serves.
  const invalidator = cache
    ? new CacheInvalidator({ cache, log: baseStore, logger, position: await startPosition() })
    : null;
  invalidator?.follow(feed);
  if (invalidator) stoppers.push(() => invalidator.stop());
  let revision: CatalogRevision;
  if (cache) {
    revision = cache;
  } else {
    const logHead = new LogHeadRevision({ log: baseStore, feed });
    stoppers.push(() => logHead.close());
    revision = logHead;
  }

  // Engine registrations live in the store (shared by replicas, refreshed from it); probing and
  // discovery are the server's background work (buildApp).
  const endpointPolicy = new EndpointPolicy({ allowHosts: config.engine_allow_hosts });
  const engines = new EngineRegistry({ store, events: store, feed, clock, logger, metrics, policy: endpointPolicy });
  if (!pendingStore) await engines.load(config.engines);
  const plainValidator = createValidator({
    // Through the cache, stamped with the revision the invalidator settles at: one cache of
    // component data, and a stamp that every read of a validation reflects.
    reader: store,
    ...(invalidator ? { revision: invalidator } : {}),
    engines: overrides.engines ?? engines,
    unhealthyEngine: config.validation.unhealthy_engine,
    cacheSize: config.validation.cache_size,
    metrics,
    logger,
  });
  const tracedValidator = tracer ? new TracingValidator({ inner: plainValidator, tracer }) : plainValidator;
  // Impact, diff, resolution: a reverse-dependency index kept by its own log follower over the
  // uncached store (reads wait for it to reach the head they saw). Verdicts carry the impact.
  const impactIndex = new ImpactIndex({ source: baseStore });
  const impactFollower = new LogFollower({
    log: baseStore,
    consumer: impactIndex,
    logger,
    position: await startPosition(),
  });
  impactIndex.attach(impactFollower);
  impactFollower.follow(feed);
  stoppers.push(() => impactFollower.stop());
  const impact = new ImpactService({ index: impactIndex });
  // List and search: one in-process projection, the same for every store, kept by its own log
  // follower over the uncached store and built from the store's latest versions at start-up.
  const search = new SearchProjection({ source: baseStore, logger });
  const searchFollower = new LogFollower({ log: baseStore, consumer: search, logger, position: -1 });
  search.attach(searchFollower);
  searchFollower.follow(feed);
  stoppers.push(() => searchFollower.stop());
  if (!pendingStore) await searchFollower.catchUp(await baseStore.headSequence());
  const validator = new ImpactAnnotatingValidator({ inner: tracedValidator, impact });
  const manager = new CatalogManager({ store, validator, feed, logger, metrics });
  // Sources are stopped before the store closes (stoppers run in reverse).
  const sources = sourceManagerFromConfig(config, {
    writer: manager,
    lifecycle: manager,
    store,
    feed,
    logger,
    metrics,
    clock,
    env,
    tracer,
  });
  stoppers.push(() => sources.stop());

  return {
    rawStore,
    baseStore,
    store,
    cache,
    revision,
    redis,
    feed,
    endpointPolicy,
    engines,
    impact,
    search,
    validator,
    manager,
    sources,
    metrics,
    storePending: pendingStore !== null,
    warmValidation: () => plainValidator.warm(),
    async whenStoreReady() {
      if (!pendingStore) return true;
      const ready = await pendingStore.whenReady();
      if (ready) await engines.load(config.engines);
      return ready;
    },
    async close() {
      for (const stop of stoppers.reverse()) await stop();
    },
  };
}

/**
 * The configured store, without caches. With a logger (the server), PostgreSQL is reached in the
 * background so that the server listens, unready, while the database is down; commands wait for it.
 */
export async function createStore(
  config: Config,
  clock: Clock,
  logger?: Logger,
): Promise<CatalogStore & SchemaMigrations> {
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
      const opts = {
        url: config.store.url ?? '',
        schema: config.store.schema,
        poolSize: config.store.pool_size,
        statementTimeoutMs: config.store.statement_timeout_ms,
        connectTimeoutMs: config.store.connect_timeout_ms,
        clock,
      };
      if (!logger) return PostgresStore.open(opts);
      return PostgresStore.connecting({
        ...opts,
        onRetry: (err, attempt, delayMs) =>
          logger.warn({ err, attempt, retryMs: delayMs }, 'PostgreSQL unreachable; serving 503 and retrying'),
        onReady: (attempts) => logger.info({ attempts }, 'PostgreSQL reached; the store is ready'),
      });
    }
  }
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
