import type { RuleHelp } from './rule-help.js';
import type { ComponentReport, LocatedIssue, ValidateReport } from './validate-report.js';

/** Output formats of `nestor validate`. */
export const VALIDATE_FORMATS = ['text', 'json', 'github', 'junit', 'sarif'] as const;
export type ValidateFormat = (typeof VALIDATE_FORMATS)[number];

/** One finding with the file it belongs to, whatever produced it (file problem or rule). */
interface Finding {
  level: 'error' | 'warning';
  path: string;
  line: number | null;
  column: number | null;
  code: string;
  rule: string;
  field: string;
  message: string;
  component: string | null;
}

function findings(report: ValidateReport): Finding[] {
  const out: Finding[] = [];
  for (const file of report.files) {
    for (const e of file.errors) {
      out.push({
        level: 'error',
        path: e.path,
        line: e.line,
        column: e.column,
        code: e.code,
        rule: 'file',
        field: '',
        message: e.message,
        component: null,
      });
    }
    for (const c of file.components) {
      const add = (level: Finding['level'], i: LocatedIssue) =>
        out.push({
          level,
          path: file.path,
          line: i.line,
          column: i.column,
          code: i.code,
          rule: i.rule,
          field: i.field,
          message: i.message,
          component: `${c.name}@${c.version}`,
        });
      for (const e of c.errors) add('error', e);
      for (const w of c.warnings) add('warning', w);
    }
  }
  return out;
}

// ---- GitHub Actions workflow commands

/** Message data: `%`, CR and LF are escaped (GitHub's toolkit `escapeData`). */
function ghData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Property values additionally escape `:` and `,` (the toolkit's `escapeProperty`). */
function ghProperty(s: string): string {
  return ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * `::error file=…,line=…,col=…,title=…::message` per finding, which GitHub shows as annotations on
 * the pull request's diff, then a plain summary line for the log.
 */
export function renderGithub(report: ValidateReport): string {
  const lines: string[] = [];
  for (const f of findings(report)) {
    const props = [`file=${ghProperty(f.path)}`];
    if (f.line !== null) props.push(`line=${f.line}`);
    if (f.column !== null) props.push(`col=${f.column}`);
    props.push(`title=${ghProperty(`${f.component ?? 'nestor'}: ${f.code}`)}`);
    const field = f.field ? ` (${f.field})` : '';
    lines.push(`::${f.level} ${props.join(',')}::${ghData(`${f.message}${field} [${f.rule}/${f.code}]`)}`);
  }
  lines.push(summaryLine(report));
  return `${lines.join('\n')}\n`;
}

function summaryLine(report: ValidateReport): string {
  const { valid, invalid, file_errors, warnings } = report.summary;
  return `nestor validate: ${valid} valid, ${invalid} invalid, ${file_errors} file error(s), ${warnings} warning(s) [${report.against}]`;
}

// ---- JUnit XML

/** Characters XML 1.0 cannot carry at all are dropped; the five specials are escaped. */
function xml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function issueText(i: LocatedIssue, path: string): string {
  const at = i.line !== null ? `${path}:${i.line}${i.column !== null ? `:${i.column}` : ''}` : path;
  return `${at} ${i.rule}/${i.code} ${i.field || '-'}: ${i.message}`;
}

function componentCase(path: string, c: ComponentReport): string {
  const name = xml(`${c.name}@${c.version}`);
  const attrs = `name="${name}" classname="${xml(path)}" file="${xml(path)}"${c.line !== null ? ` line="${c.line}"` : ''}`;
  const body: string[] = [];
  if (!c.valid) {
    const first = c.errors[0];
    const message = first ? `${first.code}: ${first.message}` : 'invalid';
    body.push(
      `      <failure message="${xml(message)}" type="${xml(first?.code ?? 'invalid')}">${xml(c.errors.map((e) => issueText(e, path)).join('\n'))}</failure>`,
    );
  }
  if (c.warnings.length > 0) {
    body.push(
      `      <system-out>${xml(c.warnings.map((w) => `warning ${issueText(w, path)}`).join('\n'))}</system-out>`,
    );
  }
  return body.length === 0
    ? `    <testcase ${attrs}/>`
    : `    <testcase ${attrs}>\n${body.join('\n')}\n    </testcase>`;
}

/**
 * JUnit XML: one `<testsuite>` per file, one `<testcase>` per component (a `<failure>` when it is
 * invalid, warnings in `<system-out>`); a file that could not be read or decoded is one test case
 * named after the file with an `<error>`, so CI test reports show it too.
 */
export function renderJunit(report: ValidateReport): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  for (const file of report.files) {
    const cases: string[] = [];
    const fileFailures = file.components.filter((c) => !c.valid).length;
    for (const e of file.errors) {
      const at = e.line !== null ? `:${e.line}${e.column !== null ? `:${e.column}` : ''}` : '';
      cases.push(
        `    <testcase name="${xml(e.path)}" classname="${xml(file.path)}" file="${xml(file.path)}">\n      <error message="${xml(`${e.code}: ${e.message}`)}" type="${xml(e.code)}">${xml(`${e.path}${at} ${e.code}: ${e.message}`)}</error>\n    </testcase>`,
      );
    }
    for (const c of file.components) cases.push(componentCase(file.path, c));
    const count = file.errors.length + file.components.length;
    tests += count;
    failures += fileFailures;
    errors += file.errors.length;
    suites.push(
      `  <testsuite name="${xml(file.path)}" tests="${count}" failures="${fileFailures}" errors="${file.errors.length}" skipped="0">\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="nestor validate" tests="${tests}" failures="${failures}" errors="${errors}">\n${suites.join('\n')}\n</testsuites>\n`;
}

// ---- SARIF 2.1.0

/** The SARIF log `--format sarif` prints; only the parts GitHub code scanning reads are filled. */
export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: SarifRun[];
}

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string; markdown: string };
  defaultConfiguration: { level: 'error' | 'warning' };
  properties: { tags: string[] };
}

interface SarifRun {
  tool: { driver: { name: string; version: string; rules: SarifRule[] } };
  results: SarifResult[];
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: 'error' | 'warning';
  message: { text: string };
  locations: {
    physicalLocation: {
      artifactLocation: { uri: string };
      region?: { startLine: number; startColumn?: number };
    };
  }[];
  partialFingerprints?: Record<string, string>;
}

/** A relative, `/`-separated URI as code scanning expects (paths are relative to the checkout). */
function artifactUri(path: string): string {
  return path
    .split(/[\\/]/)
    .filter((p) => p !== '' && p !== '.')
    .map(encodeURIComponent)
    .join('/');
}

/**
 * SARIF 2.1.0 for code-scanning uploads: one rule per code that occurred, its id the validation
 * code and its help the row of docs/validation.md (or docs/sources.md for per-file codes).
 */
export function renderSarif(report: ValidateReport, help: Map<string, RuleHelp>, toolVersion: string): SarifLog {
  const rules: SarifRule[] = [];
  const index = new Map<string, number>();
  const results: SarifResult[] = [];
  for (const f of findings(report)) {
    let i = index.get(f.code);
    if (i === undefined) {
      const h = help.get(f.code);
      const text = h?.text ?? f.message;
      const doc = h ? `docs/${h.doc}` : 'docs/validation.md';
      rules.push({
        id: f.code,
        name: f.code
          .split('_')
          .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
          .join(''),
        shortDescription: { text: `${h?.rule ?? f.rule}: ${f.code}` },
        fullDescription: { text },
        help: {
          text: `${text} (see ${doc})`,
          markdown: `**${f.code}** (${h?.rule ?? f.rule}): ${text}\n\nSee \`${doc}\`.`,
        },
        defaultConfiguration: { level: h?.severity?.startsWith('warning') ? 'warning' : 'error' },
        properties: { tags: [h?.rule ?? f.rule] },
      });
      i = rules.length - 1;
      index.set(f.code, i);
    }
    const region =
      f.line !== null ? { startLine: f.line, ...(f.column !== null ? { startColumn: f.column } : {}) } : undefined;
    results.push({
      ruleId: f.code,
      ruleIndex: i,
      level: f.level,
      message: { text: `${f.component ? `${f.component}: ` : ''}${f.message}${f.field ? ` (${f.field})` : ''}` },
      locations: [
        { physicalLocation: { artifactLocation: { uri: artifactUri(f.path) }, ...(region ? { region } : {}) } },
      ],
      ...(f.component ? { partialFingerprints: { component: `${f.component}/${f.code}/${f.field}` } } : {}),
    });
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'nestor', version: toolVersion, rules } }, results }],
  };
}
