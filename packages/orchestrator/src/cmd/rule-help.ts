import { readFileSync } from 'node:fs';

/** What docs/validation.md (rule codes) or docs/sources.md (per-file codes) says about a code. */
export interface RuleHelp {
  code: string;
  /** The validation rule (`semver`, `engines`, ...), or `file` for per-file problems. */
  rule: string;
  severity: string | null;
  text: string;
  /** Page and anchor under docs/. */
  doc: string;
}

/** Where the docs sit relative to this module, in src/ (tests) and in dist/ (the CLI) alike. */
const DOCS = new URL('../../../../docs/', import.meta.url);

/**
 * Reads the rule tables of docs/validation.md (`### rule` headings followed by `| code | severity |
 * when |` rows) and the per-file code table of docs/sources.md, so that SARIF help and the docs
 * are the same text. Missing docs (an installation without them) give an empty table: the codes
 * are still reported, only without help.
 */
export function loadRuleHelp(docs: URL = DOCS): Map<string, RuleHelp> {
  const help = new Map<string, RuleHelp>();
  const validation = readDoc(docs, 'validation.md');
  if (validation !== null) for (const h of parseRuleTables(validation)) help.set(h.code, h);
  const sources = readDoc(docs, 'sources.md');
  if (sources !== null) for (const h of parseFileCodeTable(sources)) if (!help.has(h.code)) help.set(h.code, h);
  return help;
}

function readDoc(docs: URL, name: string): string | null {
  try {
    return readFileSync(new URL(name, docs), 'utf8');
  } catch {
    return null;
  }
}

const ROW = /^\|\s*`([a-z0-9_]+)`\s*\|(.*)\|\s*$/;

function cells(rest: string): string[] {
  return rest.split('|').map((c) => c.trim());
}

/** Rows of the tables under `### <rule> (...)` headings, up to the next `## ` section. */
function parseRuleTables(markdown: string): RuleHelp[] {
  const out: RuleHelp[] = [];
  let rule: string | null = null;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('## ')) {
      if (rule !== null) break;
      continue;
    }
    const heading = /^###\s+([a-z]+)/.exec(line);
    if (heading) {
      rule = heading[1] ?? null;
      continue;
    }
    const row = ROW.exec(line);
    if (!row || rule === null) continue;
    const [severity = '', when = ''] = cells(row[2] ?? '');
    out.push({ code: row[1] ?? '', rule, severity, text: when, doc: `validation.md#${rule}` });
  }
  return out;
}

/** Rows of the `| per-file code | meaning |` table; a row may name several codes. */
function parseFileCodeTable(markdown: string): RuleHelp[] {
  const out: RuleHelp[] = [];
  for (const line of markdown.split('\n')) {
    const m = /^\|\s*((?:`[a-z0-9_]+`(?:,\s*)?)+)\s*\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const text = cells(m[2] ?? '')[0] ?? '';
    for (const code of (m[1] ?? '').match(/[a-z0-9_]+/g) ?? []) {
      out.push({ code, rule: 'file', severity: 'error', text, doc: 'sources.md' });
    }
  }
  return out;
}
