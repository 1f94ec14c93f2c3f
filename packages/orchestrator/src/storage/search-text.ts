/**
 * Turns free text into search terms. Every store searches with these terms, so no user input can
 * reach a query language (FTS5 operators, quotes, parentheses) and the stores agree on what a
 * term is: a run of letters or digits, case- and accent-folded.
 */

const MAX_TERMS = 16;
const MAX_TERM_LENGTH = 64;

/** Case- and accent-folded text (`Ünïcode` → `unicode`). */
export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The terms of a text: letter/digit runs after folding. */
export function tokenize(text: string): string[] {
  return foldText(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** The terms of a user query, deduplicated and bounded; empty when the text has none. */
export function searchTerms(text: string): string[] {
  const seen = new Set<string>();
  for (const term of tokenize(text)) {
    if (seen.size >= MAX_TERMS) break;
    seen.add(term.slice(0, MAX_TERM_LENGTH));
  }
  return [...seen];
}

/**
 * An FTS5 MATCH expression: every term quoted (so it is never an operator), all terms required,
 * the last one matched as a prefix so that results appear while the user is still typing.
 */
export function ftsMatchExpression(terms: string[]): string {
  return terms.map((t, i) => (i === terms.length - 1 ? `"${t}"*` : `"${t}"`)).join(' ');
}

/** Bonus added to the score of a component whose name is exactly the query, so it ranks first. */
export const EXACT_NAME_BONUS = 100;

/** The terms of a component's searchable fields. */
export interface SearchDocument {
  name: string[];
  description: string[];
  labels: string[];
}

export function searchDocument(c: {
  name: string;
  description: string;
  labels: Record<string, string>;
}): SearchDocument {
  return {
    name: tokenize(c.name),
    description: tokenize(c.description),
    labels: Object.entries(c.labels).flatMap(([k, v]) => [...tokenize(k), ...tokenize(v)]),
  };
}

/** Per-occurrence weights of the stores that score in process: a name match counts most. */
const NAME_WEIGHT = 10;
const LABEL_WEIGHT = 2;
const DESCRIPTION_WEIGHT = 1;

/**
 * Relevance of one document: every term must occur in some field (the last term may be a prefix,
 * as in the SQLite store); each occurrence adds its field's weight. 0 means no match.
 */
export function scoreDocument(doc: SearchDocument, terms: string[]): number {
  let score = 0;
  for (let i = 0; i < terms.length; i++) {
    const term = terms[i] as string;
    const prefix = i === terms.length - 1;
    const hit = (t: string) => (prefix ? t.startsWith(term) : t === term);
    const termScore =
      NAME_WEIGHT * doc.name.filter(hit).length +
      LABEL_WEIGHT * doc.labels.filter(hit).length +
      DESCRIPTION_WEIGHT * doc.description.filter(hit).length;
    if (termScore === 0) return 0;
    score += termScore;
  }
  return score;
}
