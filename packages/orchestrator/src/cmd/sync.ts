import { NestorError } from '@nestor/sdk';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { buildCatalogCore, type CatalogCore } from '../core.js';
import { createLogger } from '../observability/logging/logger.js';
import type { SyncProgress, SyncReport } from '../sources/syncer.js';
import { addStoreOptions } from './options.js';

export interface SyncFlags {
  config?: string;
  store?: string;
  dataDir?: string;
  examples?: boolean;
  logLevel?: string;
  json?: boolean;
  confirmRemovals?: boolean;
}

/**
 * `nestor sync <source>`: one sync of a configured source (or `examples`) against the configured
 * store, with progress on stderr and the summary on stdout. Exit code 0 when every file synced,
 * 1 when some file failed or conflicted or the sync could not complete, 2 when the source could
 * not be read at all (the CLI's usual code for errors).
 */
export function registerSyncCommand(program: Command): void {
  addStoreOptions(
    program
      .command('sync')
      .description('sync one git or directory source into the catalog now')
      .argument('<source>', 'source name from the config (or "examples")'),
  )
    .option('--no-examples', 'do not define the built-in examples source')
    .option('--log-level <level>', 'log level (default error)')
    .option('--json', 'print the summary as JSON')
    .option('--confirm-removals', "let this sync orphan more than the source's max_orphan_ratio of its versions")
    .action(async (source: string, flags: SyncFlags) => {
      process.exitCode = await runSync(source, flags, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        env: process.env,
      });
    });
}

/** Where `runSync` writes, and the environment it reads (secrets, `NESTOR_*`). */
export interface SyncIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

/** Runs `nestor sync <source>` and returns its exit code. */
export async function runSync(source: string, flags: SyncFlags, io: SyncIo): Promise<number> {
  const config = loadConfig(
    { config: flags.config, store: flags.store, dataDir: flags.dataDir, examples: flags.examples },
    io.env,
  );
  // Logs go to stderr so that stdout carries only the summary (or its JSON).
  const logger = createLogger({ level: flags.logLevel ?? 'error' }, process.stderr);
  let core: CatalogCore | null = null;
  try {
    // The same catalog the server wires: its store, caches, engines (configured and registered
    // through the API) and validation.
    core = await buildCatalogCore(config, { logger, env: io.env });
    const { sources } = core;
    let lastPhase = '';
    const report = await sources.sync(source, {
      confirmRemovals: flags.confirmRemovals === true,
      onProgress: (p) => {
        if (p.phase !== lastPhase || p.phase === 'write') io.stderr(`${progressLine(p)}\n`);
        lastPhase = p.phase;
      },
    });
    io.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report));
    return report.complete && report.counts.failed === 0 && report.counts.conflicts === 0 ? 0 : 1;
  } catch (err) {
    if (!NestorError.is(err)) throw err;
    io.stderr(`nestor: ${err.message} (${err.code})\n`);
    return 2;
  } finally {
    await core?.close();
  }
}

function progressLine(p: SyncProgress): string {
  switch (p.phase) {
    case 'fetch':
      return `${p.source}: fetching`;
    case 'list':
      return `${p.source}: listing files`;
    case 'parse':
      return `${p.source}: parsing ${p.total} file(s)`;
    case 'write':
      return `${p.source}: writing ${p.done}/${p.total}`;
    case 'done':
      return `${p.source}: done`;
  }
}

/** The human summary: counts, then each per-file error as `path:line:column code message`. */
function summary(r: SyncReport): string {
  const c = r.counts;
  const lines = [
    `source ${r.source} at ${r.commit}${r.previous_commit && r.previous_commit !== r.commit ? ` (was ${r.previous_commit})` : ''}`,
    `  ${r.full ? 'full' : 'incremental'} sync of ${r.files} file(s) in ${r.duration_ms} ms`,
    `  created ${c.created}, unchanged ${c.unchanged}, failed ${c.failed}, conflicts ${c.conflicts}`,
    `  the source holds ${c.files} file(s) defining ${c.versions} version(s)`,
  ];
  if (r.blocked) {
    const { orphans, total, ratio } = r.blocked;
    lines.push(
      `  blocked: it would orphan ${orphans} of the source's ${total} version(s) (${Math.round(ratio * 100)} %, above max_orphan_ratio); nothing was written`,
      '  run it again with --confirm-removals if the files were removed on purpose',
    );
  } else if (!r.complete) lines.push('  incomplete: some components could not be written; run the sync again');
  if (r.changeset?.outcome === 'written') lines.push(`  published as changeset ${r.changeset.id}`);
  else if (r.changeset?.outcome === 'refused') {
    lines.push(`  changeset refused: nothing of the ${r.changeset.members} changed component(s) was written`);
  } else if (r.changeset?.outcome === 'per_file') {
    lines.push(`  ${r.changeset.members} changed components are more than one changeset holds: written file by file`);
  }
  if (r.orphaned > 0 || r.unorphaned > 0) {
    lines.push(`  orphaned ${r.orphaned} version(s) whose files left the source, lifted ${r.unorphaned} mark(s)`);
  }
  for (const e of r.errors) {
    const at = e.line !== null ? `:${e.line}${e.column !== null ? `:${e.column}` : ''}` : '';
    lines.push(`  ${e.path}${at} ${e.code}: ${e.message}`);
  }
  return `${lines.join('\n')}\n`;
}
