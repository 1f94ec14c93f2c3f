import {
  type ChangesetDryRun,
  type ChangesetResult,
  type ComponentSpec,
  NestorClient,
  NestorError,
  type ValidationResult,
} from '@nestor/sdk';
import type { Command } from 'commander';
import { readArgument } from './validate.js';

export interface PublishFlags {
  server?: string | undefined;
  token?: string | undefined;
  /** Every file in one `POST /v1/changesets`: all or nothing. */
  changeset?: boolean | undefined;
  /** Validate (as one set with `--changeset`) and write nothing. */
  dryRun?: boolean | undefined;
  message?: string | undefined;
  json?: boolean | undefined;
}

export interface PublishIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

/** 0 published (or valid), 1 refused by the catalog, 2 usage or file errors, 3 server unreachable. */
export const PUBLISH_EXIT = { ok: 0, refused: 1, usage: 2, serverUnreachable: 3 } as const;

const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/**
 * Runs `nestor publish <path>`: reads the component files as `nestor validate` does and publishes
 * them to a running orchestrator, one by one or (`--changeset`) as one changeset. Returns the
 * exit code.
 */
export async function runPublish(path: string, flags: PublishFlags, io: PublishIo): Promise<number> {
  if (flags.message !== undefined && !flags.changeset) {
    io.stderr('nestor publish: --message needs --changeset (it is kept with the changeset)\n');
    return PUBLISH_EXIT.usage;
  }
  const { files, decoded } = await readArgument(path);
  const broken = files.filter((f) => f.errors.length > 0);
  if (broken.length > 0) {
    for (const f of broken) for (const e of f.errors) io.stderr(`${f.path}: ${e.message} (${e.code})\n`);
    io.stderr(`nestor publish: ${broken.length} file(s) cannot be read; nothing was published\n`);
    return PUBLISH_EXIT.usage;
  }
  const specs = decoded.map((d) => d.parsed.spec);
  const token = flags.token ?? io.env.NESTOR_TOKEN;
  const client = new NestorClient({
    baseUrl: flags.server ?? io.env.NESTOR_SERVER ?? DEFAULT_SERVER,
    userAgent: 'nestor-cli',
    ...(token ? { token } : {}),
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });
  try {
    if (flags.changeset) return await publishSet(client, specs, flags, io);
    return await publishEach(client, specs, flags, io);
  } catch (err) {
    return failed(err, io);
  }
}

async function publishSet(client: NestorClient, specs: ComponentSpec[], flags: PublishFlags, io: PublishIo) {
  const message = flags.message === undefined ? {} : { message: flags.message };
  if (flags.dryRun) {
    const verdict: ChangesetDryRun = await client.createChangeset(specs, { ...message, dryRun: true });
    if (flags.json) io.stdout(`${JSON.stringify(verdict, null, 2)}\n`);
    else {
      verdict.results.forEach((r, i) => {
        printResult(r, io);
        const impact = verdict.impact[i];
        if (impact && impact.accepted + impact.rejected > 0)
          io.stdout(`  dependents: ${impact.accepted} accept it, ${impact.rejected} do not\n`);
      });
      io.stdout(`changeset of ${specs.length}: ${verdict.valid ? 'valid' : 'invalid'} (dry run, nothing written)\n`);
    }
    return verdict.valid ? PUBLISH_EXIT.ok : PUBLISH_EXIT.refused;
  }
  const written: ChangesetResult = await client.createChangeset(specs, message);
  if (flags.json) io.stdout(`${JSON.stringify(written, null, 2)}\n`);
  else {
    for (const item of written.items) io.stdout(`${item.name}@${item.version}: ${item.status}\n`);
    io.stdout(
      written.id
        ? `changeset ${written.id}: revision ${written.revision}\n`
        : 'every component was published already; nothing written\n',
    );
  }
  return PUBLISH_EXIT.ok;
}

async function publishEach(client: NestorClient, specs: ComponentSpec[], flags: PublishFlags, io: PublishIo) {
  if (flags.dryRun) {
    const results = await client.validateBatch(specs);
    if (flags.json) io.stdout(`${JSON.stringify({ results }, null, 2)}\n`);
    else for (const r of results) printResult(r, io);
    return results.every((r) => r.valid) ? PUBLISH_EXIT.ok : PUBLISH_EXIT.refused;
  }
  let refused = 0;
  const outcomes: { name: string; version: string; status: string }[] = [];
  for (const spec of specs) {
    try {
      const { created } = await client.createComponent(spec);
      outcomes.push({ name: spec.name, version: spec.version, status: created ? 'created' : 'unchanged' });
    } catch (err) {
      if (!NestorError.is(err) || !['validation_failed', 'version_conflict'].includes(err.code)) throw err;
      refused += 1;
      outcomes.push({ name: spec.name, version: spec.version, status: err.code });
      if (!flags.json) io.stderr(`${spec.name}@${spec.version}: ${err.message} (${err.code})\n`);
    }
  }
  if (flags.json) io.stdout(`${JSON.stringify({ items: outcomes }, null, 2)}\n`);
  else
    for (const o of outcomes)
      if (o.status === 'created' || o.status === 'unchanged') io.stdout(`${o.name}@${o.version}: ${o.status}\n`);
  return refused > 0 ? PUBLISH_EXIT.refused : PUBLISH_EXIT.ok;
}

function printResult(r: ValidationResult, io: PublishIo): void {
  io.stdout(`${r.name}@${r.version}: ${r.valid ? 'valid' : 'invalid'}\n`);
  for (const e of r.errors) io.stdout(`  error ${e.code}${e.field ? ` at ${e.field}` : ''}: ${e.message}\n`);
  for (const w of r.warnings) io.stdout(`  warning ${w.code}${w.field ? ` at ${w.field}` : ''}: ${w.message}\n`);
}

function failed(err: unknown, io: PublishIo): number {
  const code = NestorError.is(err) ? err.code : 'internal_error';
  io.stderr(`nestor publish: ${err instanceof Error ? err.message : String(err)} (${code})\n`);
  if (NestorError.is(err) && code === 'validation_failed') {
    for (const r of (err.extensions['results'] as ValidationResult[] | undefined) ?? []) {
      if (!r.valid) printResult(r, { ...io, stdout: io.stderr });
    }
  }
  if (['unauthorized', 'forbidden', 'invalid_request'].includes(code)) return PUBLISH_EXIT.usage;
  if (['service_unavailable', 'timeout', 'internal_error', 'storage_failure'].includes(code))
    return PUBLISH_EXIT.serverUnreachable;
  return PUBLISH_EXIT.refused;
}

/** `nestor publish <path> [--changeset] [--dry-run] [--message m]` (write token; docs/changesets.md). */
export function registerPublishCommand(program: Command): void {
  program
    .command('publish')
    .description('publish the component files under a folder (or one file) to a running orchestrator')
    .argument('<path>', 'a folder (component.yaml and *.component.yaml below it) or one file')
    .option('--changeset', 'publish every file in one changeset: validated as one set, written all or nothing')
    .option('--dry-run', 'validate (as one set with --changeset) and write nothing')
    .option('--message <text>', 'why, kept with the changeset (needs --changeset)')
    .option('--server <url>', `orchestrator URL (default: NESTOR_SERVER or ${DEFAULT_SERVER})`)
    .option('--token <token>', 'write bearer token (default: NESTOR_TOKEN)')
    .option('--json', 'print the answer as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 published (or valid), 1 refused by the catalog (validation_failed, version_conflict, changeset_too_large), 2 usage, file errors or token refused, 3 server unreachable.',
    )
    .action(async (path: string, flags: PublishFlags) => {
      process.exitCode = await runPublish(path, flags, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        env: process.env,
      });
    });
}
