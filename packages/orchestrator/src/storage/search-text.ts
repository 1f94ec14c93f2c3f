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
