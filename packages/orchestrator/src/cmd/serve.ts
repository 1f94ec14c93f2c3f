import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { buildApp } from '../main.js';
import { addStoreOptions, note } from './options.js';

interface ServeFlags {
  config?: string;
  host?: string;
  port?: string;
  store?: string;
  dataDir?: string;
  examples?: boolean;
  logLevel?: string;
}

const CONFIG_HELP = `
Configuration (defaults < --config file < NESTOR_<SECTION>_<KEY> env < flags):
  server.host / NESTOR_SERVER_HOST            listen address (127.0.0.1)
  server.port / NESTOR_SERVER_PORT            listen port (8080)
  server.body_limit                           largest request body in bytes (1048576)
  store.type / NESTOR_STORE_TYPE              memory | sqlite | dynamodb | postgres (sqlite)
  store.url / NESTOR_STORE_URL                PostgreSQL URL; store.schema / NESTOR_STORE_SCHEMA (nestor)
  store.pool_size, statement_timeout, connect_timeout  PostgreSQL pool (10, 30s, 30s)
  store.path / NESTOR_STORE_PATH              SQLite file (./data/nestor.db)
  store.table, store.region, store.endpoint   DynamoDB table and endpoint override
  data_dir / NESTOR_DATA_DIR                  data folder (./data)
  cache.enabled, cache.max_bytes, cache.ttl   in-process cache (on, 64 MiB, 5m)
  cache.redis_url / NESTOR_CACHE_REDIS_URL    shared Redis cache and cross-replica wake-ups
  auth.anonymous_read                         allow reads without a token (true)
  NESTOR_API_TOKENS="<token>:<scope>[+<scope>],..."  scopes read, write, admin
  sources: [...]                              git or directory sources (see docs/sources.md)
  engines: [...]                              deployment engines (see docs/engines.md)
  validation.unhealthy_engine                 error | warn (error)
  events.retain, events.heartbeat             event log retention (100000) and SSE heartbeat (15s)
  examples.enabled, examples.path             load ./examples as a directory source (true)
  log.level / NESTOR_LOG_LEVEL                fatal..trace | silent (info)
Durations: 500ms, 30s, 5m, 1h, or a number of seconds. Unknown keys are errors.`;

export function registerServeCommand(program: Command): void {
  addStoreOptions(
    program
      .command('serve')
      .description('run the orchestrator HTTP API')
      .option('--host <host>', 'listen address')
      .option('-p, --port <port>', 'listen port'),
  )
    .option('--no-examples', 'do not load the example components')
    .option('--log-level <level>', 'log level')
    .addHelpText('after', CONFIG_HELP)
    .action(async (flags: ServeFlags) => {
      const config = loadConfig(flags, process.env);
      const app = await buildApp(config);
      if (app.generatedAdminToken) {
        note('');
        note('No API token was configured, so an admin token was generated. It is shown only this once:');
        note(`  ${app.generatedAdminToken}`);
        note(
          `Only its sha256 is kept (${config.data_dir}/admin-token.sha256). Use it as "Authorization: Bearer <token>".`,
        );
        note('');
      }
      const address = await app.server.listen({ host: config.server.host, port: config.server.port });
      await app.start();
      app.logger.info(
        { address, store: config.store.type, version: app.version.version },
        'nestor orchestrator listening',
      );
      note(`nestor orchestrator listening on ${address} (store: ${config.store.type})`);

      await new Promise<void>((resolve) => {
        let closing = false;
        const shutdown = (signal: string) => {
          if (closing) return;
          closing = true;
          app.logger.info({ signal }, 'shutting down');
          const force = setTimeout(() => {
            app.logger.error('shutdown timed out; exiting');
            process.exit(1);
          }, config.server.shutdown_timeout_ms);
          force.unref();
          app.close().then(resolve, (err: unknown) => {
            app.logger.error({ err }, 'error during shutdown');
            resolve();
          });
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
      });
    });
}
