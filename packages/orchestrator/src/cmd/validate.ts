import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type ComponentDefinition,
  type ComponentSpec,
  create,
  type DeploymentEngine,
  type ImpactSummary,
  NestorClient,
  NestorError,
  type SourceFileError,
  type ValidationIssue,
  type ValidationResult,
  validationFailed,
} from '@nestor/sdk';
import { type Command, Option } from 'commander';
import { type Config, defaultConfig } from '../config/config.js';
import { defaultEngineConfig, loadConfig } from '../config/load.js';
import { buildCatalogCore, createStore } from '../core.js';
import type { EngineReader } from '../engines/interfaces.js';
import { engineFromConfig } from '../engines/static-reader.js';
import { systemClock } from '../observability/clock.js';
import { silentLogger } from '../observability/logging/logger.js';
import { fileError, type Position } from '../sources/file-errors.js';
import { componentFileParser, MAX_FILE_BYTES, type ParsedComponent } from '../sources/parser.js';
import { DirectorySourceReader, globMatchers, type SourceFile } from '../sources/readers.js';
import { considered, screenFiles } from '../sources/sync-plan.js';
import { writeInOrder } from '../sources/write-loop.js';
import type { CatalogStore } from '../storage/interfaces.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { buildInfo } from '../version.js';
import { addStoreOptions } from './options.js';
import { loadRuleHelp } from './rule-help.js';
import { renderGithub, renderJunit, renderSarif, VALIDATE_FORMATS, type ValidateFormat } from './validate-formats.js';
import type { ComponentReport, FileReport, LocatedIssue, ValidateReport } from './validate-report.js';

/** Flags of `nestor validate`. */
export interface ValidateFlags {
  /** Validate against a running orchestrator instead of a local catalog. */
  server?: string | undefined;
  token?: string | undefined;
  config?: string | undefined;
  /** Local catalog to validate against: `memory` (default, empty) or an existing store. */
  store?: string | undefined;
  dataDir?: string | undefined;
  /** Engines to treat as registered (health unknown) on top of the configured ones. */
  engine?: string[] | undefined;
  format?: ValidateFormat | undefined;
  /** Warnings fail the run too. */
  strict?: boolean | undefined;
}

/** Where the command writes and what it reads from its environment; tests pass their own. */
export interface ValidateIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
}

/** The globs a folder is searched with (`node_modules`, `.git` and dot folders are skipped). */
const COMPONENT_FILE_GLOBS = ['**/component.yaml', '**/*.component.yaml'];
const COMPONENT = 'cli';

/** One component document read from a file. */
export interface Decoded {
  file: FileReport;
  parsed: ParsedComponent;
}

/**
 * Runs `nestor validate`: reads the component files under `paths`, validates every document
 * against a running orchestrator or a local catalog, prints the report and returns the exit code
 * (1 when anything is invalid or unreadable, 0 otherwise). Throws only when it cannot validate at
 * all (server unreachable, store unreadable).
 */
export async function runValidate(paths: string[], flags: ValidateFlags, io: ValidateIo): Promise<number> {
  const files: FileReport[] = [];
  const decoded: Decoded[] = [];
  for (const arg of paths) {
    const read = await readArgument(arg);
    // Appended one by one: a folder of a hundred thousand files or more overflows a spread's arguments.
    for (const file of read.files) files.push(file);
    for (const item of read.decoded) decoded.push(item);
  }

  const against = flags.server
    ? `server ${flags.server}`
    : `local ${flags.store ?? (flags.dataDir ? 'sqlite' : 'memory')} catalog`;
  let verdicts: Map<Decoded, ValidationResult>;
  if (flags.server) {
    const remote = await validateRemote(decoded, flags, io).catch((err: unknown) => unusableServer(flags, io, err));
    if (typeof remote === 'number') return remote;
    verdicts = remote;
  } else {
    verdicts = await validateLocal(decoded, flags, io);
  }
  for (const item of decoded) {
    const result = verdicts.get(item);
    if (result) item.file.components.push(componentReport(item.parsed, result));
  }
  for (const file of files) file.components.sort((a, b) => a.document - b.document);

  const report = summarize(against, files);
  io.stdout(render(report, flags.format ?? 'text'));
  const unknownEngine = files.some((f) =>
    f.components.some((c) => c.errors.some((e) => e.code === 'engine_not_found')),
  );
  if (unknownEngine && !flags.server) {
    io.stderr(
      'hint: deployment engines must be registered; list them in a --config file (engines: [...]) or pass --engine <name>\n',
    );
  }
  return exitCodeOf(report, flags.strict === true);
}

/** Exit codes of `nestor validate` (DESIGN 10.10), documented in its --help. */
const EXIT = { valid: 0, findings: 1, usage: 2, serverUnreachable: 3 } as const;

/**
 * 2 when some file could not be read as YAML at all (not found, not YAML, empty, binary, no
 * component file in a folder): the set was not fully checked. 1 for findings: invalid components,
 * documents that do not decode as a component (a misspelt key), or warnings under --strict.
 */
function exitCodeOf(report: ValidateReport, strict: boolean): number {
  const fileErrors = report.files.flatMap((f) => f.errors);
  if (fileErrors.some((e) => e.code !== 'invalid_request')) return EXIT.usage;
  const findings = report.summary.invalid > 0 || fileErrors.length > 0 || (strict && report.summary.warnings > 0);
  return findings ? EXIT.findings : EXIT.valid;
}

function render(report: ValidateReport, format: ValidateFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'github':
      return renderGithub(report);
    case 'junit':
      return renderJunit(report);
    case 'sarif':
      return `${JSON.stringify(renderSarif(report, loadRuleHelp(), buildInfo(process.env).version), null, 2)}\n`;
    default:
      return renderText(report);
  }
}

/**
 * A server that cannot be used: 2 when the call itself is wrong (not a URL, a token refused), 3
 * when the server is down, times out, fails or answers something that is not Nestor's API.
 */
function unusableServer(flags: ValidateFlags, io: ValidateIo, err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  const code = NestorError.is(err) ? err.code : 'invalid_response';
  const usage =
    code === 'unauthorized' || code === 'forbidden' || (code === 'invalid_request' && /baseUrl/.test(message));
  io.stderr(
    `nestor: cannot validate against ${flags.server}: ${message} (${code})${usage ? '' : '; is the server up and is it a Nestor orchestrator?'}\n`,
  );
  return usage ? EXIT.usage : EXIT.serverUnreachable;
}

/** `nestor validate <path...>`; the action sets `process.exitCode`. */
export function registerValidateCommand(program: Command): void {
  addStoreOptions(
    program
      .command('validate')
      .description('validate component files (component.yaml, *.component.yaml) without publishing them')
      .argument('<path...>', 'component files, or folders searched recursively for component files'),
  )
    .option('--server <url>', 'validate against a running orchestrator (POST /v1/validate)')
    .option('--token <token>', 'bearer token for --server (default: NESTOR_TOKEN)')
    .option(
      '--engine <name>',
      'treat this deployment engine as registered (repeatable; local validation only)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(
      new Option('--format <format>', 'text, json, github (workflow annotations), junit (XML), sarif (2.1.0)')
        .choices(VALIDATE_FORMATS)
        .default('text'),
    )
    .option('--strict', 'fail on warnings too')
    .addHelpText(
      'after',
      `
Without --server, the files are checked as one set against a local catalog: an empty in-memory one
(default), or the store named by --store/--data-dir/--config, which is read but never written.
Components are taken in dependency order, and each valid one is added before the next is checked,
so a folder of components that depend on each other validates as a set. Engines come from the
config file (engines: [...]; without that key terraform, pulumi and crossplane, health unknown)
and --engine. With --server, each component is checked against the
server's catalog as it stands.

Formats: text (default), json (the report), github (::error/::warning workflow commands with file,
line and column, shown as pull-request annotations), junit (JUnit XML, one test case per component),
sarif (SARIF 2.1.0 for code scanning; rule ids are the validation codes of docs/validation.md).

Exit codes:
  0  every component is valid
  1  findings: an invalid component, a document that is not a component (e.g. a misspelt key),
     or a warning with --strict
  2  usage or file errors: bad flags or format, a path that does not exist, a file that is not
     YAML, empty or binary, a folder without component files, a token the server refuses
  3  the server (--server) is unreachable, failing, or answers something that is not Nestor's API`,
    )
    .action(async (paths: string[], flags: ValidateFlags) => {
      process.exitCode = await runValidate(paths, flags, {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        env: process.env,
      });
    });
}

/**
 * Reads one argument the way a source sync reads a folder: a folder through the directory reader
 * (its globs are the component file names), a file named explicitly whatever its name; the listed
 * files are screened and parsed by the sync's own steps. The parser sees paths below the argument;
 * reports show them joined to it.
 */
export async function readArgument(arg: string): Promise<{ files: FileReport[]; decoded: Decoded[] }> {
  const alone = (error: SourceFileError) => ({ files: [{ path: arg, errors: [error], components: [] }], decoded: [] });
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(arg);
  } catch (err) {
    return alone(fileError(arg, 'file_not_found', `cannot read ${arg}: ${errnoOf(err)}`));
  }
  let listed: SourceFile[];
  let display: (path: string) => string;
  let read: (files: SourceFile[]) => Promise<Map<string, Buffer>>;
  const unreadable = new Map<string, string>();
  if (info.isFile()) {
    listed = [{ path: basename(arg), kind: 'file', size: info.size, ref: arg }];
    display = () => arg;
    read = async (readable) => {
      const out = new Map<string, Buffer>();
      for (const f of readable) {
        try {
          out.set(f.path, await readFile(f.ref));
        } catch (err) {
          unreadable.set(f.path, errnoOf(err));
        }
      }
      return out;
    };
  } else if (info.isDirectory()) {
    const reader = new DirectorySourceReader({ root: arg, paths: COMPONENT_FILE_GLOBS, maxFileBytes: MAX_FILE_BYTES });
    const matchers = globMatchers(COMPONENT_FILE_GLOBS);
    listed = considered(await reader.list(await reader.head(), matchers.mentions), matchers);
    // Depth first, each folder's entries by name: the order of a recursive listing.
    listed.sort((x, y) => compareSegments(x.path.split('/'), y.path.split('/')));
    display = (path) => join(arg, path);
    read = (readable) => reader.read(readable);
  } else {
    return alone(fileError(arg, 'file_unreadable', `${arg} is not a file or folder`));
  }
  if (listed.length === 0) {
    return alone(fileError(arg, 'no_component', `no component.yaml or *.component.yaml file under ${arg}`));
  }

  const reports = new Map<string, FileReport>();
  for (const f of listed) reports.set(f.path, { path: display(f.path), errors: [], components: [] });
  const report = (path: string) => reports.get(path) as FileReport;
  const { readable, errors } = screenFiles(listed, MAX_FILE_BYTES);
  for (const e of errors) report(e.path).errors.push({ ...e, path: display(e.path) });
  const contents = await read(readable);
  const decoded: Decoded[] = [];
  for (const f of readable) {
    const file = report(f.path);
    const content = contents.get(f.path);
    if (!content) {
      const why = unreadable.get(f.path);
      file.errors.push(fileError(file.path, 'file_unreadable', `cannot read file${why ? `: ${why}` : ''}`));
      continue;
    }
    const parsed = componentFileParser.parse({ path: f.path, content, repository: '', commit: null });
    file.errors.push(...parsed.errors.map((e) => ({ ...e, path: file.path })));
    for (const component of parsed.components) {
      // git_* describe where sync found a file; a local check has no repository to name.
      component.spec.git_repository = null;
      component.spec.git_commit = null;
      component.spec.git_path = null;
      decoded.push({ file, parsed: component });
    }
  }
  return { files: [...reports.values()], decoded };
}

function compareSegments(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

async function validateRemote(
  decoded: Decoded[],
  flags: ValidateFlags,
  io: ValidateIo,
): Promise<Map<Decoded, ValidationResult>> {
  const verdicts = new Map<Decoded, ValidationResult>();
  if (decoded.length === 0) return verdicts;
  const client = new NestorClient({
    baseUrl: flags.server ?? '',
    token: flags.token ?? io.env.NESTOR_TOKEN,
    userAgent: 'nestor-cli',
  });
  const results: unknown[] = await client.validateBatch(decoded.map((d) => d.parsed.spec));
  // A proxy or another service on that port may answer 200 with JSON of another shape.
  if (!Array.isArray(results) || results.length !== decoded.length || !results.every(isValidationResult)) {
    throw new Error(
      `the server answered POST /v1/validate with something that is not ${decoded.length} validation result(s)`,
    );
  }
  decoded.forEach((d, i) => {
    verdicts.set(d, results[i] as ValidationResult);
  });
  return verdicts;
}

/**
 * Validates against an in-memory catalog, seeded from the chosen store, adding each valid
 * component before the next is judged (dependencies first, each name's versions ascending).
 */
async function validateLocal(
  decoded: Decoded[],
  flags: ValidateFlags,
  io: ValidateIo,
): Promise<Map<Decoded, ValidationResult>> {
  const verdicts = new Map<Decoded, ValidationResult>();
  // A data folder alone names the default embedded store.
  const type = flags.store ?? (flags.dataDir ? 'sqlite' : 'memory');
  const config =
    flags.config || type !== 'memory'
      ? loadConfig({ config: flags.config, store: type, dataDir: flags.dataDir, examples: false }, io.env)
      : defaultConfig();
  const catalog = new MemoryStore();
  const engines = new Map<string, DeploymentEngine>();
  for (const c of config.engines) engines.set(c.name, engineFromConfig(c, 'config'));
  if (type !== 'memory') await seedFrom(config, catalog, engines);
  for (const name of flags.engine ?? []) {
    if (!engines.has(name)) engines.set(name, flagEngine(name));
  }

  const core = await buildCatalogCore(offline(config), {
    store: catalog,
    engines: mapEngineReader(engines),
    logger: silentLogger,
    env: io.env,
  });
  try {
    // The sync's ordered create loop: a valid component is added before the next is judged, and
    // one that failed only for a dependency written later in the batch is judged again.
    await writeInOrder(decoded, {
      write: async (item) => {
        const result = await core.manager.validateComponent(item.parsed.spec);
        verdicts.set(item, result);
        if (!result.valid) throw validationFailed(COMPONENT, 'Validate', result);
        return core.manager.createComponent(item.parsed.spec);
      },
      failed: (_item, err) => {
        // The verdict is the finding; anything else means the set could not be checked.
        if (NestorError.hasCode(err, 'validation_failed')) return true;
        throw err;
      },
    });
  } finally {
    await core.close();
  }
  return verdicts;
}

/**
 * The config of a local check: the catalog is a throw-away memory copy, so no cache, no Redis, no
 * sources, no configured engines to register (the check reads them from `engines` instead), and no
 * verdict cache (every component is judged once).
 */
function offline(config: Config): Config {
  return {
    ...config,
    cache: { ...config.cache, enabled: false, redis_url: null },
    validation: { ...config.validation, cache_size: 0 },
    engines: [],
    sources: [],
    examples: { ...config.examples, enabled: false },
  };
}

/** Copies an existing store's components and engines; the store itself is only read. */
async function seedFrom(config: Config, into: MemoryStore, engines: Map<string, DeploymentEngine>): Promise<void> {
  if (config.store.type === 'sqlite' && !existsSync(config.store.path)) {
    throw create('invalid_request')
      .component(COMPONENT)
      .operation('Validate')
      .message(`no SQLite store at ${config.store.path}; use --data-dir or --config to point at one`)
      .build();
  }
  const store: CatalogStore = await createStore(config, systemClock);
  try {
    for (const engine of await store.listEngines()) engines.set(engine.name, engine);
    for (const name of await store.listComponentNames()) {
      const versions = await store.getComponentVersions(name);
      for (const stored of [...versions].reverse()) {
        await into.createComponent({ ...specOf(stored), digest: stored.digest });
        if (stored.deprecated) {
          await into.updateComponent(name, stored.version, { deprecated: { reason: stored.deprecated.reason } });
        }
      }
    }
  } finally {
    await store.close();
  }
}

function isValidationResult(value: unknown): value is ValidationResult {
  const r = value as Partial<ValidationResult> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.valid === 'boolean' &&
    Array.isArray(r.errors) &&
    Array.isArray(r.warnings) &&
    Array.isArray(r.changes)
  );
}

function specOf(d: ComponentDefinition): ComponentSpec {
  const { digest: _d, created_at: _c, updated_at: _u, deprecated: _x, revision: _r, ...spec } = d;
  return spec;
}

function flagEngine(name: string): DeploymentEngine {
  return engineFromConfig(defaultEngineConfig(name), 'cli');
}

function mapEngineReader(engines: Map<string, DeploymentEngine>): EngineReader {
  return {
    listEngines: async () => [...engines.values()],
    getEngine: async (name) => engines.get(name) ?? null,
    healthEpoch: () => 0,
  };
}

function componentReport(parsed: ParsedComponent, result: ValidationResult): ComponentReport {
  const locate = (issue: ValidationIssue): LocatedIssue => {
    const at: Position = parsed.locate(issue.field);
    return { ...issue, line: at.line, column: at.column };
  };
  return {
    name: parsed.spec.name,
    version: parsed.spec.version,
    document: parsed.document,
    line: parsed.position.line,
    column: parsed.position.column,
    valid: result.valid,
    errors: result.errors.map(locate),
    warnings: result.warnings.map(locate),
    required_bump: result.required_bump,
    changes: result.changes,
    predecessor: result.predecessor,
    impact: result.impact ?? null,
  };
}

function summarize(against: string, files: FileReport[]): ValidateReport {
  const summary = { valid: 0, invalid: 0, file_errors: 0, warnings: 0 };
  for (const file of files) {
    summary.file_errors += file.errors.length;
    for (const c of file.components) {
      if (c.valid) summary.valid += 1;
      else summary.invalid += 1;
      summary.warnings += c.warnings.length;
    }
  }
  return { against, files, summary };
}

function where(path: string, line: number | null, column: number | null): string {
  if (line === null) return path;
  return column === null ? `${path}:${line}` : `${path}:${line}:${column}`;
}

/** The human report: per file, per component ✔/✖ with its findings, then a summary line. */
function renderText(report: ValidateReport): string {
  const out: string[] = [];
  for (const file of report.files) {
    out.push(file.path);
    for (const e of file.errors) {
      out.push(`  ✖ ${where(e.path, e.line, e.column)}  ${e.code}  ${e.message}`);
    }
    for (const c of file.components) {
      const mark = c.valid ? '✔' : '✖';
      out.push(`  ${mark} ${c.name}@${c.version}${c.line !== null ? `  (line ${c.line})` : ''}`);
      for (const e of c.errors) out.push(`      ${issueLine('error', e)}`);
      for (const w of c.warnings) out.push(`      ${issueLine('warning', w)}`);
      if (c.predecessor !== null || c.changes.length > 0) {
        out.push(`      required bump: ${c.required_bump}${c.predecessor ? ` (since ${c.predecessor})` : ''}`);
        for (const ch of c.changes) out.push(`        ${ch.bump.padEnd(5)}  ${ch.kind}  ${ch.path}  ${ch.message}`);
      }
      if (c.impact && c.impact.accepted + c.impact.rejected > 0) out.push(...impactLines(c.impact));
    }
  }
  const { valid, invalid, file_errors, warnings } = report.summary;
  const extras = [
    file_errors > 0 ? `${file_errors} file error${file_errors === 1 ? '' : 's'}` : null,
    warnings > 0 ? `${warnings} warning${warnings === 1 ? '' : 's'}` : null,
  ].filter((x): x is string => x !== null);
  out.push('');
  out.push(
    `${valid} valid, ${invalid} invalid${extras.length > 0 ? ` (${extras.join(', ')})` : ''}  [${report.against}]`,
  );
  return `${out.join('\n')}\n`;
}

/** `impact: 3 dependents accept, 1 rejects` and the first few of each side. */
function impactLines(impact: ImpactSummary): string[] {
  const s = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const lines = [
    `      impact: ${s(impact.accepted, 'dependent accepts', 'dependents accept')}, ${impact.rejected} reject${impact.rejected === 1 ? 's' : ''}`,
  ];
  const more = (shown: number, total: number) => (total > shown ? [`          ... and ${total - shown} more`] : []);
  for (const d of impact.first_accepted) lines.push(`        accepts  ${d.name}@${d.version}  (${d.version_range})`);
  lines.push(...more(impact.first_accepted.length, impact.accepted));
  for (const d of impact.first_rejected) lines.push(`        rejects  ${d.name}@${d.version}  (${d.version_range})`);
  lines.push(...more(impact.first_rejected.length, impact.rejected));
  return lines;
}

function issueLine(level: 'error' | 'warning', issue: LocatedIssue): string {
  const at = issue.line !== null ? `  (line ${issue.line}${issue.column !== null ? `:${issue.column}` : ''})` : '';
  return `${level.padEnd(7)}  ${issue.rule}  ${issue.code}  ${issue.field || '-'}  ${issue.message}${at}`;
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message ?? String(err);
}
