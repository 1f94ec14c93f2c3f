/**
 * The composition root of the server: the catalog core (store, caches, feed, engines, validation,
 * manager, sources) comes from `buildCatalogCore`; this adds what serving needs (tracing, the
 * HTTP server and its routes, engine probes, the event stream) and the background work.
 */
import { randomUUID } from 'node:crypto';
import type { VersionInfo } from '@nestor/sdk';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { registerAuditRoutes } from './api/handlers/audit.js';
import { registerCatalogRoutes } from './api/handlers/catalog.js';
import { registerChangesetRoutes } from './api/handlers/changesets.js';
import { registerEngineRoutes } from './api/handlers/engines.js';
import { type ReadinessCheck, registerHealthRoutes } from './api/handlers/health.js';
import { registerImpactRoutes } from './api/handlers/impact.js';
import { registerLifecycleRoutes } from './api/handlers/lifecycle.js';
import { registerSchemaRoutes } from './api/handlers/schemas.js';
import { registerSourceRoutes } from './api/handlers/sources.js';
import { registerEventRoutes } from './api/handlers/sse.js';
import { registerSubscriptionRoutes } from './api/handlers/subscriptions.js';
import { registerTokenRoutes } from './api/handlers/tokens.js';
import { registerOperationsRoutes } from './api/handlers/version.js';
import { registerWebhookRoutes } from './api/handlers/webhooks.js';
import { setUpAuth } from './api/middleware/admin-token.js';
import { registerAuditHook } from './api/middleware/audit.js';
import { securityHeaders } from './api/middleware/security-headers.js';
import { registerResponseCache } from './api/response-cache.js';
import { createServer } from './api/server.js';
import { DEFAULT_WEB_DIR, registerWebRoutes } from './api/web.js';
import { AuditRecorder } from './audit/recorder.js';
import type { CatalogManager } from './catalog/manager.js';
import { VersionPurger } from './catalog/purger.js';
import type { Config } from './config/config.js';
import { buildCatalogCore } from './core.js';
import { DiscoveryRunner, discoveriesFromConfig } from './engines/discovery.js';
import { HttpHealthChecker } from './engines/health.js';
import { EventCompactor } from './events/compaction.js';
import type { ChangeFeed } from './events/interfaces.js';
import { EventBroker } from './events/sse/server.js';
import { type AddressLookup, EndpointPolicy } from './infra/endpoint-policy.js';
import { LeaderLease, LeaseLeadership } from './leases/lease.js';
import type { Clock } from './observability/clock.js';
import { systemClock } from './observability/clock.js';
import { createLogger, type Logger } from './observability/logging/logger.js';
import { registerTracingHooks } from './observability/tracing/http.js';
import { setUpTracing, traceLogFields } from './observability/tracing/tracing.js';
import type { SourceManager } from './sources/manager.js';
import type { CatalogStore } from './storage/interfaces.js';
import { TokenService } from './tokens/service.js';
import { StoredTokenVerifier } from './tokens/verifier.js';
import { buildInfo } from './version.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import type { RetryTimer } from './webhooks/interfaces.js';
import { httpSender, realRetryTimer } from './webhooks/sender.js';
import { SubscriptionService } from './webhooks/subscriptions.js';

export type { Config } from './config/config.js';
export { defaultConfig } from './config/config.js';
export { loadConfig } from './config/load.js';
export { createStore } from './core.js';

/** Replacements for tests: a ready store, a logger, a clock. */
export interface AppOverrides {
  store?: CatalogStore;
  logger?: Logger;
  clock?: Clock;
  env?: Record<string, string | undefined>;
  /** Span exporter for tests (InMemorySpanExporter); switches tracing on like an OTLP endpoint. */
  spanExporter?: SpanExporter;
  /** Folder of the built catalog browser (default packages/web/dist). */
  webDir?: string;
  /** Waiting between webhook retries (tests move their clock instead). */
  webhookTimer?: RetryTimer;
  /** Name resolution of webhook receivers (tests answer private addresses for public-looking names). */
  webhookLookup?: AddressLookup;
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

export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const env = overrides.env ?? process.env;
  const clock = overrides.clock ?? systemClock;
  const version = buildInfo(env);
  // Tracing is on with OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT (or a test exporter); when off, nothing
  // is wrapped or hooked, so it costs nothing.
  const tracing = setUpTracing({
    endpoint: env['OTEL_EXPORTER_OTLP_ENDPOINT'],
    tracesUrl: env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    exporter: overrides.spanExporter,
    serviceName: env['OTEL_SERVICE_NAME'] ?? 'nestor-orchestrator',
    serviceVersion: version.version,
  });
  const tracer = tracing.enabled ? tracing.tracer : null;
  const logger =
    overrides.logger ??
    createLogger({
      level: config.log.level,
      pretty: config.log.pretty,
      ...(tracer ? { mixin: traceLogFields } : {}),
    });
  const stoppers: (() => Promise<void> | void)[] = [() => tracing.shutdown()];

  const core = await buildCatalogCore(config, {
    logger,
    clock,
    env,
    tracer,
    ...(overrides.store ? { store: overrides.store } : {}),
  });
  stoppers.push(() => core.close());
  const { baseStore, store, redis, feed, engines, impact, manager, sources, metrics } = core;

  // One replica, the lease holder, probes and discovers engines; stopped before the core closes.
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
    policy: core.endpointPolicy,
  });
  const engineDiscovery = new DiscoveryRunner({
    target: engines,
    discoveries: discoveriesFromConfig(config, env),
    intervalMs: config.discovery.interval_ms,
    logger,
    metrics,
    leadership: engineLeadership,
    policy: core.endpointPolicy,
  });
  stoppers.push(async () => {
    await engineDiscovery.stop();
    await engineHealth.stop();
    engines.stopRefresh();
    await engineLeadership.release();
  });

  // Stored tokens (`/v1/tokens`) are read from the uncached store: a revocation must reach this
  // replica within the verifier's TTL, whatever the catalog cache holds.
  const tokenVerifier = new StoredTokenVerifier({ store: baseStore, clock, logger });
  const { auth, generatedAdminToken } = setUpAuth(config, logger, tokenVerifier);
  const tokens = new TokenService({
    store: baseStore,
    clock,
    reservedNames: auth.configuredNames,
    verifier: tokenVerifier,
  });
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
    // With the cache on, the revision is the sequence up to which the cache reflects the log: held
    // in memory (a read costs no store round trip) and never ahead of the data this process serves.
    revision: core.revision,
    version: version.version,
    ...(tracer ? { instrument: (app: FastifyInstance) => registerTracingHooks(app, tracer) } : {}),
  });
  // Audit (10.5): writes carry their entry into the store; the hook records refusals and no-ops.
  const audit = new AuditRecorder({ log: baseStore, clock, logger, retainMs: config.audit.retain_ms });
  registerAuditHook(server, audit);
  stoppers.push(() => audit.stop());
  // Serialized component reads, keyed by revision and the store cache's generation so that they
  // follow the store cache exactly; a quarter of `cache.max_bytes` on top of it, off with it.
  registerResponseCache(server, {
    maxBytes: core.cache ? Math.floor(config.cache.max_bytes / 4) : 0,
    ttlMs: config.cache.ttl_ms,
    revision: core.revision,
  });
  const checks: ReadinessCheck[] = [{ name: 'store', check: () => baseStore.ping() }];
  if (redis) checks.push({ name: 'redis', optional: true, check: () => redis.check() });
  registerHealthRoutes(server, { checks });
  registerOperationsRoutes(server, { version, renderMetrics: () => metrics.render() });
  registerCatalogRoutes(server, {
    manager,
    audit,
    search: core.search,
    limits: { validateBatch: config.limits.validate_batch, dependencies: config.limits.dependencies },
  });
  registerChangesetRoutes(server, { manager, audit, impact, limits: { dependencies: config.limits.dependencies } });
  registerLifecycleRoutes(server, { manager });
  registerEngineRoutes(server, { engines, audit });
  registerImpactRoutes(server, { impact });
  registerSchemaRoutes(server);
  registerTokenRoutes(server, { tokens, audit });
  registerAuditRoutes(server, { log: baseStore });

  // Outgoing webhooks (10.6): one replica, the `webhooks` lease holder, delivers; every receiver's
  // host is judged when subscribed and again, resolved once and pinned, before every attempt.
  const webhookPolicy = new EndpointPolicy({
    allowHosts: config.webhooks.allow_hosts,
    allowHostsKey: 'webhooks.allow_hosts',
    noun: 'url',
    ...(overrides.webhookLookup ? { lookup: overrides.webhookLookup } : {}),
  });
  const dispatcher = new WebhookDispatcher({
    store: baseStore,
    feed,
    leadership: new LeaseLeadership({
      store: baseStore,
      name: 'webhooks',
      holder: randomUUID(),
      ttlMs: 30_000,
      logger,
    }),
    policy: webhookPolicy,
    send: httpSender,
    timer: overrides.webhookTimer ?? realRetryTimer,
    clock,
    logger,
    metrics,
    auditEntry: (id, details) =>
      audit.entry({
        actor: 'system:webhooks',
        action: 'subscription.disable',
        subject: id,
        request_id: null,
        ip: null,
        outcome: 'ok',
        details,
      }),
    retryForMs: config.webhooks.retry_for_ms,
    timeoutMs: config.webhooks.timeout_ms,
  });
  stoppers.push(() => dispatcher.stop());
  const subscriptions = new SubscriptionService({
    store: baseStore,
    policy: webhookPolicy,
    clock,
    onChange: () => {
      if (started) dispatcher.nudge();
    },
  });
  registerSubscriptionRoutes(server, { subscriptions, audit });

  // Sources (issue 5): their status routes and webhooks; the syncs themselves are the core's.
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
  // The catalog browser (design 10.8), read from its build at start-up.
  registerWebRoutes(server, { dir: overrides.webDir ?? DEFAULT_WEB_DIR, logger });
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
  // Deleted versions are purged after lifecycle.purge_after, by one replica (the lease holder).
  const purger = new VersionPurger({
    store,
    catalog: manager,
    lease: new LeaderLease({ store, holder: randomUUID(), ttlMs: 60_000, prefix: 'lifecycle:', logger }),
    purgeAfterMs: config.lifecycle.purge_after_ms,
    intervalMs: config.lifecycle.purge_interval_ms,
    clock,
    logger,
  });
  stoppers.push(() => purger.stop());

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
      const begin = async () => {
        // The first create after start-up would otherwise build validation's name index itself.
        void core
          .warmValidation()
          .catch((err: unknown) => logger.warn({ err }, 'validation could not read ahead; the first create will'));
        await sources.start();
        compactor.start();
        purger.start();
        dispatcher.start();
        audit.start();
        engines.startRefresh(5_000);
        engineHealth.start();
        engineDiscovery.start();
      };
      if (!core.storePending) return begin();
      // A store still being reached (PostgreSQL down at start) delays background work until it answers.
      void core
        .whenStoreReady()
        .then((ready) => (ready ? begin() : undefined))
        .catch((err: unknown) => logger.error({ err }, 'starting background work failed'));
    },
    async close() {
      await server.close();
      for (const stop of stoppers.reverse()) await stop();
    },
  };
}
