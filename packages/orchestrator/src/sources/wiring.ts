/**
 * How sources are put together: definitions from config (secrets read from the environment by
 * name), one syncer per source over its reader (a git clone or a folder), and the lease that
 * keeps two processes from syncing one source at once. The composition root calls this; the
 * `SourceManager` only schedules the syncers it is given.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Tracer } from '@opentelemetry/api';
import { type Config, DEFAULT_MAX_ORPHAN_RATIO, SYNC_LIMIT_DEFAULTS } from '../config/config.js';
import type { ChangeFeed } from '../events/interfaces.js';
import { GitClient, type SpawnFn } from '../git/client.js';
import { LeaderLease } from '../leases/lease.js';
import type { Clock } from '../observability/clock.js';
import { systemClock } from '../observability/clock.js';
import type { Logger } from '../observability/logging/logger.js';
import type { Metrics } from '../observability/metrics/interfaces.js';
import type { ComponentReader, EventLog, LeaseStore, StateStore } from '../storage/interfaces.js';
import { type SourceDefinition, SourceManager } from './manager.js';
import type { LifecycleMarker } from './orphans.js';
import { DirectorySourceReader, GitSourceReader, type SourceReader } from './readers.js';
import { type ComponentCreator, SourceSyncer } from './syncer.js';

/** Name of the built-in directory source that loads `examples/`. */
const EXAMPLES_SOURCE = 'examples';

/** A killed holder frees a source within this long; renewed every third of it while syncing. */
const LEASE_TTL_MS = 30_000;

export interface SourceWiringOptions {
  sources: SourceDefinition[];
  /** Git clones go to `<dataDir>/sources/<name>`. */
  dataDir: string;
  writer: ComponentCreator;
  /** Marks and unmarks orphans (the catalog manager). */
  lifecycle: LifecycleMarker;
  store: StateStore & Pick<EventLog, 'appendEvent'> & Pick<ComponentReader, 'getComponent'>;
  /** Leases that keep replicas (and `nestor sync` beside a server) from syncing one source at once. */
  leases?: LeaseStore;
  feed: ChangeFeed;
  logger: Logger;
  metrics?: Metrics;
  clock?: Clock;
  /** Per git command time limit (ms). */
  gitTimeoutMs?: number;
  /** Quiet time after a file change in a directory source before it is synced (ms). */
  watchDebounceMs?: number;
  /** When tracing is on, each sync run is a `sync.source` span. */
  tracer?: Tracer | null;
  /** Starts git children (node's `spawn` unless a test wants to see their argv). */
  spawn?: SpawnFn;
}

/** A `SourceManager` over the given definitions, each with its reader and syncer. */
export function createSourceManager(opts: SourceWiringOptions): SourceManager {
  const clock = opts.clock ?? systemClock;
  return new SourceManager({
    sources: opts.sources,
    syncerFor: syncerFactory({ ...opts, clock }),
    lease: opts.leases
      ? new LeaderLease({
          store: opts.leases,
          holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
          ttlMs: LEASE_TTL_MS,
          prefix: 'source-sync:',
          logger: opts.logger,
        })
      : null,
    logger: opts.logger,
    clock,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.watchDebounceMs !== undefined ? { watchDebounceMs: opts.watchDebounceMs } : {}),
    ...(opts.tracer ? { tracer: opts.tracer } : {}),
  });
}

/** Builds a source's syncer: a git reader over its clone, or a directory reader, and the writer. */
function syncerFactory(opts: SourceWiringOptions & { clock: Clock }): (def: SourceDefinition) => SourceSyncer {
  return (def) => {
    const limits = {
      maxFiles: def.max_files ?? SYNC_LIMIT_DEFAULTS.max_files,
      maxBytes: def.max_bytes ?? SYNC_LIMIT_DEFAULTS.max_bytes,
    };
    const reader: SourceReader =
      def.type === 'git'
        ? new GitSourceReader({
            git: new GitClient({
              name: def.name,
              url: def.url ?? '',
              branch: def.branch,
              dir: join(opts.dataDir, 'sources', def.name),
              token: def.token,
              sshKeyPath: def.ssh_key_path,
              timeoutMs: opts.gitTimeoutMs,
              logger: opts.logger,
              spawn: opts.spawn,
            }),
          })
        : new DirectorySourceReader({ name: def.name, root: resolve(def.path ?? '.'), paths: def.paths, limits });
    return new SourceSyncer({
      name: def.name,
      reader,
      paths: def.paths,
      writer: opts.writer,
      lifecycle: opts.lifecycle,
      maxOrphanRatio: def.max_orphan_ratio ?? DEFAULT_MAX_ORPHAN_RATIO,
      catalog: opts.store,
      limits,
      state: opts.store,
      events: opts.store,
      feed: opts.feed,
      logger: opts.logger,
      clock: opts.clock,
    });
  };
}

/**
 * Sources from config plus, when `examples.enabled`, the `examples` directory source (unless the
 * config already names a source `examples`). Secrets are read from `env` here, by name. The
 * store's leases keep two processes from syncing one source at once.
 */
export function sourceManagerFromConfig(
  config: Config,
  deps: Omit<SourceWiringOptions, 'sources' | 'dataDir' | 'store' | 'leases'> & {
    store: SourceWiringOptions['store'] & LeaseStore;
    env: Record<string, string | undefined>;
  },
): SourceManager {
  const { env, ...rest } = deps;
  return createSourceManager({
    ...rest,
    leases: deps.store,
    sources: sourceDefinitions(config, env, rest.logger),
    dataDir: config.data_dir,
  });
}

function sourceDefinitions(
  config: Config,
  env: Record<string, string | undefined>,
  logger: Logger,
): SourceDefinition[] {
  const defs: SourceDefinition[] = config.sources.map((s) => ({
    ...s,
    token: s.token_env ? (env[s.token_env] ?? null) : null,
    webhookSecret: s.webhook_secret_env ? (env[s.webhook_secret_env] ?? null) : null,
  }));
  if (config.examples.enabled && !defs.some((d) => d.name === EXAMPLES_SOURCE)) {
    defs.push({
      name: EXAMPLES_SOURCE,
      type: 'directory',
      url: null,
      path: config.examples.path,
      branch: 'main',
      paths: ['**/*.yaml', '**/*.yml'],
      interval_ms: 5_000,
      webhook_secret_env: null,
      token_env: null,
      ssh_key_path: null,
      token: null,
      webhookSecret: null,
    });
  }
  for (const d of defs) {
    if (d.webhook_secret_env && !d.webhookSecret) {
      logger.warn(
        { source: d.name, env: d.webhook_secret_env },
        'webhook secret variable is not set; webhooks for this source will be refused',
      );
    }
  }
  return defs;
}
