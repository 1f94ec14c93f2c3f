import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { adminTokenHashFile } from '../api/middleware/admin-token.js';
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
  store.pool_size, statement_timeout, connect_timeout  PostgreSQL pool (10, 30s; 30s wait in commands)
  store.path / NESTOR_STORE_PATH              SQLite file (./data/nestor.db)
  store.table, store.region, store.endpoint   DynamoDB table and endpoint override
  data_dir / NESTOR_DATA_DIR                  data folder (./data)
  cache.enabled, cache.max_bytes, cache.ttl   in-process cache (on, 64 MiB, 5m)
  cache.redis_url / NESTOR_CACHE_REDIS_URL    shared Redis (redis:// or rediss:// for TLS) and wake-ups
  cache.redis_password_env                    env variable holding the Redis AUTH password
  cache.redis_signing_key_env                 env variable holding the key that signs shared entries
  cache.redis_tls_ca_file                     PEM CA for rediss:// with a private CA
  auth.anonymous_read                         allow reads without a token (true)
  NESTOR_API_TOKENS="<token>:<scope>[+<scope>],..."  scopes read, write, admin
  sources: [...]                              git or directory sources (see docs/sources.md)
  webhooks.body_limit                         largest webhook body in bytes (1048576)
  engines: [...]                              deployment engines (see docs/engines.md)
  validation.unhealthy_engine                 error | warn (error)
  events.retain, events.heartbeat             event log retention (100000) and SSE heartbeat (15s)
  examples.enabled, examples.path             load ./examples as a directory source (true)
  log.level / NESTOR_LOG_LEVEL                fatal..trace | silent (info)
  log.pretty / NESTOR_LOG_PRETTY              readable lines even when stdout is not a terminal (false;
                                              on a terminal they are always readable, else JSON)
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
      config.log.pretty = prettyLogs(config.log.pretty, process.stdout);
      const app = await buildApp(config);
      if (app.generatedAdminToken) handOverAdminToken(app.generatedAdminToken, adminTokenHashFile(config));
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

/**
 * Readable logs for a person at a terminal, JSON lines for everything else (a pipe, a file, a
 * container's log collector); `log.pretty: true` asks for readable lines regardless.
 */
export function prettyLogs(configured: boolean, stdout: { isTTY?: boolean }): boolean {
  return configured || stdout.isTTY === true;
}

/**
 * Gives the operator the generated admin token without it ever reaching a log: on a terminal it is
 * shown there; otherwise (a pipe, a container's log collector) it goes to a file only its owner can
 * read, beside the hash, and only that file's path is printed.
 */
function handOverAdminToken(token: string, hashFile: string, out: NodeJS.WriteStream = process.stdout): void {
  const advice = `Use it as "Authorization: Bearer <token>"; only its sha256 is kept (${hashFile}).`;
  if (out.isTTY) {
    out.write(
      `\nNo API token was configured, so an admin token was generated. It is shown only this once:\n  ${token}\n${advice}\n\n`,
    );
    return;
  }
  const tokenFile = join(dirname(hashFile), 'admin-token');
  try {
    // A leftover file (or a link planted in its place) is removed rather than written through.
    rmSync(tokenFile, { force: true });
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    note(
      `No API token was configured and the generated admin token could not be written to ${tokenFile} ` +
        `(${(err as NodeJS.ErrnoException).code ?? 'error'}); it is not shown because the output is not a terminal. ` +
        `Configure a token (NESTOR_API_TOKENS) or remove ${hashFile} and start again.`,
    );
    return;
  }
  note(`No API token was configured, so an admin token was generated and written to ${tokenFile} (mode 0600).`);
  note(`Read it once, keep it somewhere safe and delete the file. ${advice}`);
}
