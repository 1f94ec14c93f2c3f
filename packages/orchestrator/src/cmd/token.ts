import { type CreatedToken, NestorClient, NestorError, type TokenInfo, type TokenScope } from '@nestor/sdk';
import type { Command } from 'commander';
import type { ValidateIo } from './validate.js';

/** Flags every `nestor token` subcommand takes. */
export interface TokenClientFlags {
  server?: string | undefined;
  token?: string | undefined;
  format?: string | undefined;
}

export interface TokenCreateFlags extends TokenClientFlags {
  scope?: string[] | undefined;
  names?: string[] | undefined;
  expiresIn?: string | undefined;
}

export const TOKEN_EXIT = { ok: 0, usage: 2, serverUnreachable: 3 } as const;
const DEFAULT_SERVER = 'http://127.0.0.1:8080';

function client(flags: TokenClientFlags, io: ValidateIo): NestorClient {
  return new NestorClient({
    baseUrl: flags.server ?? io.env.NESTOR_SERVER ?? DEFAULT_SERVER,
    token: flags.token ?? io.env.NESTOR_TOKEN,
    userAgent: 'nestor-cli',
  });
}

/** Runs one call; a refusal (4xx, bad URL) is a usage error (2), an unreachable or failing server 3. */
async function call(io: ValidateIo, what: string, work: () => Promise<void>): Promise<number> {
  try {
    await work();
    return TOKEN_EXIT.ok;
  } catch (err) {
    const code = NestorError.is(err) ? err.code : 'internal_error';
    const status = NestorError.is(err) ? err.status : 500;
    io.stderr(`nestor token ${what}: ${err instanceof Error ? err.message : String(err)} (${code})\n`);
    return status >= 400 && status < 500 ? TOKEN_EXIT.usage : TOKEN_EXIT.serverUnreachable;
  }
}

function badFormat(flags: TokenClientFlags, io: ValidateIo, what: string): boolean {
  const format = flags.format ?? 'text';
  if (format === 'text' || format === 'json') return false;
  io.stderr(`nestor token ${what}: unknown format ${JSON.stringify(format)}; use text or json\n`);
  return true;
}

/** `nestor token create <name>`: prints the token once (text: the token alone on stdout). */
export async function runTokenCreate(name: string, flags: TokenCreateFlags, io: ValidateIo): Promise<number> {
  if (badFormat(flags, io, 'create')) return TOKEN_EXIT.usage;
  const scopes = flags.scope ?? [];
  if (scopes.length === 0) {
    io.stderr('nestor token create: give at least one --scope (read, write, admin, provenance)\n');
    return TOKEN_EXIT.usage;
  }
  return call(io, 'create', async () => {
    const created: CreatedToken = await client(flags, io).createToken({
      name,
      scopes: scopes as TokenScope[],
      ...(flags.names ? { names: flags.names } : {}),
      ...(flags.expiresIn ? { expires_in: flags.expiresIn } : {}),
    });
    if (flags.format === 'json') {
      io.stdout(`${JSON.stringify(created, null, 2)}\n`);
      return;
    }
    io.stdout(`${created.token}\n`);
    io.stderr(
      `created token ${created.name} (id ${created.id}, scopes ${created.scopes.join('+')}` +
        `${created.names.length ? `, names ${created.names.join(' ')}` : ''}` +
        `, expires ${created.expires_at ?? 'never'}); it is shown only now\n`,
    );
  });
}

/** `nestor token list`: one line per stored token, never a secret. */
export async function runTokenList(flags: TokenClientFlags, io: ValidateIo): Promise<number> {
  if (badFormat(flags, io, 'list')) return TOKEN_EXIT.usage;
  return call(io, 'list', async () => {
    const items: TokenInfo[] = await client(flags, io).listTokens();
    if (flags.format === 'json') {
      io.stdout(`${JSON.stringify({ items }, null, 2)}\n`);
      return;
    }
    if (items.length === 0) {
      io.stdout('no stored tokens\n');
      return;
    }
    const rows = [['ID', 'NAME', 'SCOPES', 'NAMES', 'EXPIRES', 'LAST USED']];
    for (const t of items) {
      rows.push([
        t.id,
        t.name,
        t.scopes.join('+'),
        t.names.length ? t.names.join(',') : '*',
        t.expires_at ?? 'never',
        t.last_used_at ?? 'never',
      ]);
    }
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const r of rows)
      io.stdout(
        `${r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
      );
  });
}

/** `nestor token revoke <id>`. */
export async function runTokenRevoke(id: string, flags: TokenClientFlags, io: ValidateIo): Promise<number> {
  return call(io, 'revoke', async () => {
    await client(flags, io).revokeToken(id);
    io.stderr(`revoked token ${id}\n`);
  });
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `nestor token create|list|revoke`: a client of `/v1/tokens` (admin token required). */
export function registerTokenCommand(program: Command): void {
  const io: ValidateIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  };
  const token = program
    .command('token')
    .description('manage stored API tokens on a running orchestrator (admin token required)');
  const common = (cmd: Command) =>
    cmd
      .option('--server <url>', `the orchestrator (default: NESTOR_SERVER or ${DEFAULT_SERVER})`)
      .option('--token <token>', 'admin bearer token (default: NESTOR_TOKEN)')
      .option('--format <format>', 'text or json', 'text');
  common(
    token
      .command('create')
      .description('create a token; it is printed once and never shown again')
      .argument('<name>', 'unique name; audit entries name the token as token:<name>')
      .option('--scope <scope>', 'read, write, admin or provenance (repeatable)', collect)
      .option('--names <pattern>', 'glob of the component names it may publish, e.g. "aws-*" (repeatable)', collect)
      .option('--expires-in <duration>', 'lifetime: 30m, 12h, 90d (1 minute to 366 days); default: never'),
  ).action(async (name: string, flags: TokenCreateFlags) => {
    process.exitCode = await runTokenCreate(name, flags, io);
  });
  common(token.command('list').description('list stored tokens (never their secrets)')).action(
    async (flags: TokenClientFlags) => {
      process.exitCode = await runTokenList(flags, io);
    },
  );
  common(
    token
      .command('revoke')
      .description('revoke a token; every replica refuses it within 2 s')
      .argument('<id>', 'the token id (nestor token list)'),
  ).action(async (id: string, flags: TokenClientFlags) => {
    process.exitCode = await runTokenRevoke(id, flags, io);
  });
}
