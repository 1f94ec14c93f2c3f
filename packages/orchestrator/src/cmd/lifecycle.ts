import { type ComponentDefinition, NestorClient, NestorError } from '@nestor/sdk';
import type { Command } from 'commander';

export interface LifecycleFlags {
  server?: string | undefined;
  token?: string | undefined;
  reason?: string | undefined;
  json?: boolean | undefined;
}

export interface LifecycleIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

export type LifecycleAction = 'revoke' | 'delete' | 'restore';

/** 0 done, 1 refused by the catalog (has_dependents, component_deleted, not found), 2 usage, 3 server unreachable. */
export const LIFECYCLE_EXIT = { ok: 0, refused: 1, usage: 2, serverUnreachable: 3 } as const;

const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** Runs `nestor revoke|delete|restore <name> <version>` against a running orchestrator; returns the exit code. */
export async function runLifecycle(
  action: LifecycleAction,
  name: string,
  version: string,
  flags: LifecycleFlags,
  io: LifecycleIo,
): Promise<number> {
  if (action === 'revoke' && !flags.reason) {
    io.stderr('nestor revoke: --reason is required (it is shown on every read of the version)\n');
    return LIFECYCLE_EXIT.usage;
  }
  const server = flags.server ?? io.env.NESTOR_SERVER ?? DEFAULT_SERVER;
  const token = flags.token ?? io.env.NESTOR_TOKEN;
  let done: ComponentDefinition;
  try {
    const client = new NestorClient({
      baseUrl: server,
      ...(token ? { token } : {}),
      ...(io.fetch ? { fetch: io.fetch } : {}),
    });
    if (action === 'revoke') done = await client.revoke(name, version, flags.reason as string);
    else if (action === 'delete')
      done = await client.deleteVersion(name, version, flags.reason ? { reason: flags.reason } : {});
    else done = await client.restore(name, version);
  } catch (err) {
    const code = NestorError.is(err) ? err.code : 'internal_error';
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`nestor ${action}: ${name}@${version}: ${message} (${code})\n`);
    if (NestorError.is(err) && code === 'has_dependents') {
      for (const d of (err.details?.['dependents'] as { name: string; version: string; version_range: string }[]) ?? [])
        io.stderr(`  needed by ${d.name}@${d.version} (${d.version_range})\n`);
    }
    if (['unauthorized', 'forbidden', 'invalid_request'].includes(code)) return LIFECYCLE_EXIT.usage;
    if (['service_unavailable', 'timeout', 'internal_error', 'storage_failure'].includes(code))
      return LIFECYCLE_EXIT.serverUnreachable;
    return LIFECYCLE_EXIT.refused;
  }
  if (flags.json) io.stdout(`${JSON.stringify(done, null, 2)}\n`);
  else {
    const state = done.deleted ? 'deleted' : done.revoked ? `revoked (${done.revoked.reason})` : 'active';
    io.stdout(`${done.name}@${done.version}: ${state}, revision ${done.revision}\n`);
  }
  return LIFECYCLE_EXIT.ok;
}

/** `nestor revoke`, `nestor delete`, `nestor restore` (admin token; docs/lifecycle.md). */
export function registerLifecycleCommands(program: Command): void {
  const describe: Record<LifecycleAction, string> = {
    revoke: 'revoke a version: latest, resolve, list and search skip it (admin)',
    delete: 'delete a version softly: 410 from now on, restorable until purged, its number never reused (admin)',
    restore: 'lift a revocation or a not-yet-purged deletion (admin)',
  };
  for (const action of ['revoke', 'delete', 'restore'] as const) {
    const cmd = program
      .command(action)
      .description(describe[action])
      .argument('<name>', 'component name')
      .argument('<version>', 'exact version')
      .option('--server <url>', `orchestrator URL (default: NESTOR_SERVER or ${DEFAULT_SERVER})`)
      .option('--token <token>', 'admin bearer token (default: NESTOR_TOKEN)')
      .option('--json', 'print the version as JSON');
    if (action !== 'restore') cmd.option('--reason <text>', action === 'revoke' ? 'why (required)' : 'why');
    cmd.addHelpText(
      'after',
      '\nExit codes: 0 done, 1 refused by the catalog (has_dependents, component_deleted, component_not_found), 2 usage or token refused, 3 server unreachable.',
    );
    cmd.action(async (name: string, version: string, flags: LifecycleFlags) => {
      process.exitCode = await runLifecycle(action, name, version, flags, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        env: process.env,
      });
    });
  }
}
