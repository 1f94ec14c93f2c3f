import {
  BUMP_ORDER,
  type Bump,
  type ImpactSummary,
  isStrictVersion,
  NestorError,
  type SourceFileError,
  type VersionChange,
} from '@nestor/sdk';
import type { Command } from 'commander';
import semver from 'semver';
import { bumpMade } from '../validation/rules/changes.js';
import { addStoreOptions } from './options.js';
import { runValidate, type ValidateIo } from './validate.js';
import type { LocatedIssue, ValidateReport } from './validate-report.js';

/** Flags of `nestor diff`. */
export interface DiffFlags {
  /** Compare against a running orchestrator instead of a local catalog. */
  server?: string | undefined;
  token?: string | undefined;
  config?: string | undefined;
  store?: string | undefined;
  dataDir?: string | undefined;
  /** Engines to treat as registered on top of the configured ones (local catalog only). */
  engine?: string[] | undefined;
  /** `text` or `json`; anything else is a usage error (exit 2). */
  format?: string | undefined;
}

/** One component of the files, compared with its predecessor in the catalog. */
interface ComponentDiff {
  file: string;
  name: string;
  version: string;
  line: number | null;
  /** The highest version in the catalog below this one; null for a new name or a lowest version. */
  predecessor: string | null;
  changes: VersionChange[];
  required_bump: Bump;
  /** The bump from the predecessor to this version (`none` without a predecessor). */
  bump_made: Bump;
  sufficient: boolean;
  /** Existing dependents whose ranges accept or reject this version. */
  impact: ImpactSummary | null;
  /** Validation errors besides the bump (a version conflict, a missing dependency, ...). */
  findings: LocatedIssue[];
}

/** The machine-readable outcome (`--format json`). */
export interface DiffReport {
  /** `server <url>` or `local <store> catalog`. */
  against: string;
  components: ComponentDiff[];
  file_errors: SourceFileError[];
  summary: { components: number; sufficient: number; insufficient: number; findings: number; file_errors: number };
}

/** Exit codes (DESIGN 10.10), listed in `nestor diff --help`. */
const DIFF_EXIT = { ok: 0, findings: 1, usage: 2, serverUnreachable: 3 } as const;

const FORMATS = ['text', 'json'] as const;
const BUMP_RULE_CODES = new Set(['insufficient_version_bump']);

/**
 * Runs `nestor diff`: judges the files exactly as `nestor validate` does (same local catalog or
 * same server call), then reports per component the changes since its predecessor, the bump they
 * require, the bump made and the impact on existing dependents. Returns the exit code.
 */
export async function runDiff(paths: string[], flags: DiffFlags, io: ValidateIo): Promise<number> {
  const format = flags.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) {
    io.stderr(`nestor diff: unknown format ${JSON.stringify(format)}; use ${FORMATS.join(' or ')}\n`);
    return DIFF_EXIT.usage;
  }
  let printed = '';
  let code: number;
  try {
    code = await runValidate(
      paths,
      {
        server: flags.server,
        token: flags.token,
        config: flags.config,
        store: flags.store,
        dataDir: flags.dataDir,
        engine: flags.engine,
        format: 'json',
      },
      {
        stdout: (text) => {
          printed += text;
        },
        stderr: (text) => io.stderr(text),
        env: io.env,
      },
    );
  } catch (err) {
    return cannotCompare(flags, io, err);
  }
  // No report means validation stopped before judging anything and has said why on stderr.
  if (printed.trim().length === 0) return code === 0 ? DIFF_EXIT.usage : code;
  const report = diffReport(JSON.parse(printed) as ValidateReport);
  io.stdout(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderDiffText(report));
  return exitCodeOf(report);
}

/** The bump `from → to` makes, as the semver rule counts it; `none` when either is not a version. */
function bumpBetween(from: string | null, to: string): Bump {
  if (from === null || !isStrictVersion(from) || !isStrictVersion(to)) return 'none';
  const prev = new semver.SemVer(from);
  const next = new semver.SemVer(to);
  return semver.gt(next, prev) ? bumpMade(prev, next) : 'none';
}

function diffReport(validated: ValidateReport): DiffReport {
  const components: ComponentDiff[] = [];
  const fileErrors: SourceFileError[] = [];
  for (const file of validated.files) {
    fileErrors.push(...file.errors);
    for (const c of file.components) {
      const made = bumpBetween(c.predecessor, c.version);
      components.push({
        file: file.path,
        name: c.name,
        version: c.version,
        line: c.line,
        predecessor: c.predecessor,
        changes: c.changes,
        required_bump: c.required_bump,
        bump_made: made,
        // A prerelease too: validation only warns there, but the bump is what this command judges.
        sufficient: c.predecessor === null || BUMP_ORDER[made] >= BUMP_ORDER[c.required_bump],
        impact: c.impact,
        findings: c.errors.filter((e) => !BUMP_RULE_CODES.has(e.code)),
      });
    }
  }
  const insufficient = components.filter((c) => !c.sufficient).length;
  return {
    against: validated.against,
    components,
    file_errors: fileErrors,
    summary: {
      components: components.length,
      sufficient: components.length - insufficient,
      insufficient,
      findings: components.reduce((n, c) => n + c.findings.length, 0),
      file_errors: fileErrors.length,
    },
  };
}

/**
 * 2 when a file could not be read as components at all (missing, not YAML, empty, no component
 * file): the comparison is incomplete. 1 for an insufficient bump, another validation error, or a
 * document that does not decode as a component (a misspelt key).
 */
function exitCodeOf(report: DiffReport): number {
  if (report.file_errors.some((e) => e.code !== 'invalid_request')) return DIFF_EXIT.usage;
  const { insufficient, findings, file_errors } = report.summary;
  return insufficient + findings + file_errors > 0 ? DIFF_EXIT.findings : DIFF_EXIT.ok;
}

/** 2 for a call that is wrong (bad URL, token refused, no local store), 3 when the server cannot be used. */
function cannotCompare(flags: DiffFlags, io: ValidateIo, err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  const code = NestorError.is(err) ? err.code : 'internal_error';
  const usage =
    !flags.server ||
    code === 'unauthorized' ||
    code === 'forbidden' ||
    (code === 'invalid_request' && /baseUrl/.test(message));
  const against = flags.server ? ` against ${flags.server}` : '';
  io.stderr(`nestor diff: cannot compare${against}: ${message} (${code})\n`);
  return usage ? DIFF_EXIT.usage : DIFF_EXIT.serverUnreachable;
}

/** Per file, per component: predecessor → version, the bumps, the changes and the impact. */
function renderDiffText(report: DiffReport): string {
  const out: string[] = [];
  let file: string | null = null;
  for (const e of report.file_errors) {
    out.push(
      `✖ ${e.line === null ? e.path : `${e.path}:${e.line}${e.column === null ? '' : `:${e.column}`}`}  ${e.code}  ${e.message}`,
    );
  }
  for (const c of report.components) {
    if (c.file !== file) {
      file = c.file;
      out.push(file);
    }
    out.push(`  ${c.sufficient ? '✔' : '✖'} ${c.name}  ${heading(c)}`);
    for (const ch of c.changes) out.push(`      ${ch.bump.padEnd(5)}  ${ch.kind}  ${ch.path}  ${ch.message}`);
    if (c.impact && c.impact.accepted + c.impact.rejected > 0) out.push(...impactLines(c.impact));
    else if (c.predecessor !== null) out.push('      impact: no existing dependents');
    for (const f of c.findings) {
      const at = f.line === null ? '' : `  (line ${f.line}${f.column === null ? '' : `:${f.column}`})`;
      out.push(`      error  ${f.code}  ${f.field || '-'}  ${f.message}${at}`);
    }
  }
  const { components, sufficient, insufficient, findings, file_errors } = report.summary;
  const extras = [
    findings > 0 ? `${findings} other finding${findings === 1 ? '' : 's'}` : null,
    file_errors > 0 ? `${file_errors} file error${file_errors === 1 ? '' : 's'}` : null,
  ].filter((x): x is string => x !== null);
  out.push('');
  out.push(
    `${components} component${components === 1 ? '' : 's'}: ${sufficient} bump${sufficient === 1 ? '' : 's'} sufficient, ` +
      `${insufficient} insufficient${extras.length > 0 ? ` (${extras.join(', ')})` : ''}  [${report.against}]`,
  );
  return `${out.join('\n')}\n`;
}

function heading(c: ComponentDiff): string {
  if (c.predecessor === null) return `${c.version}  (no predecessor in the catalog: nothing to compare)`;
  const verdict = c.sufficient ? 'sufficient' : `insufficient: publish a ${c.required_bump} bump`;
  return (
    `${c.predecessor} → ${c.version}  bump made: ${c.bump_made}, required: ${c.required_bump} (${verdict})` +
    (c.changes.length === 0 ? '  no changes' : '')
  );
}

function impactLines(impact: ImpactSummary): string[] {
  const lines = [
    `      impact: ${impact.accepted} dependent${impact.accepted === 1 ? '' : 's'} accept${impact.accepted === 1 ? 's' : ''}, ` +
      `${impact.rejected} reject${impact.rejected === 1 ? 's' : ''}`,
  ];
  const more = (shown: number, total: number) => (total > shown ? [`        ... and ${total - shown} more`] : []);
  for (const d of impact.first_accepted) lines.push(`        accepts  ${d.name}@${d.version}  (${d.version_range})`);
  lines.push(...more(impact.first_accepted.length, impact.accepted));
  for (const d of impact.first_rejected) lines.push(`        rejects  ${d.name}@${d.version}  (${d.version_range})`);
  lines.push(...more(impact.first_rejected.length, impact.rejected));
  return lines;
}

/** `nestor diff <path...>`; the action sets `process.exitCode`. */
export function registerDiffCommand(program: Command): void {
  addStoreOptions(
    program
      .command('diff')
      .description('show what component files change against the catalog: changes, bumps and impact on dependents')
      .argument('<path...>', 'component files, or folders searched recursively for component files'),
  )
    .option('--server <url>', 'compare against a running orchestrator (POST /v1/validate)')
    .option('--token <token>', 'bearer token for --server (default: NESTOR_TOKEN)')
    .option(
      '--engine <name>',
      'treat this deployment engine as registered (repeatable; local catalog only)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--format <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
For each component in the files: its predecessor (the highest version in the catalog below it), the
changes since that predecessor (docs/validation.md lists the kinds), the bump they require, the bump
the file makes, and which existing dependents' ranges accept or reject the new version.

The catalog is the one \`nestor validate\` uses: without --server, the store named by
--store/--data-dir/--config (read, never written), or an empty in-memory one; files are taken as one
set in dependency order, so a folder with several versions of a name compares each with the one
below it. With --server, each component is compared with the server's catalog as it stands.

Exit codes:
  0  every bump is sufficient and nothing else is wrong
  1  a bump is insufficient (a prerelease too), another validation error (a version conflict, a
     missing dependency, an unregistered engine), or a document that is not a component
  2  usage or file errors: an unknown --format, a path that does not exist, a file that is not
     YAML, empty or binary, a folder without component files, a token the server refuses
  3  the server (--server) is unreachable or failing
`,
    )
    .action(async (paths: string[], flags: DiffFlags) => {
      process.exitCode = await runDiff(paths, flags, {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        env: process.env,
      });
    });
}
