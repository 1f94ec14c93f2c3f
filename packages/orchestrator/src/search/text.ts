/**
 * What a word is, for the search projection: a run of letters or digits, case- and accent-folded.
 * Documents and queries are cut the same way, so no user input ever reaches a query language and a
 * hyphenated or underscored name (`aws-rds-postgres`, `vpc_id`) is found by each of its parts.
 */

/** Words kept from one query; the rest are ignored. */
export const MAX_QUERY_WORDS = 16;
/** A longer word is cut to this length (document and query alike). */
const MAX_WORD_LENGTH = 64;

/** Case- and accent-folded text (`Ünïcode` → `unicode`). */
export function foldText(text: string): string {
  // ASCII has no marks and is its own NFKD form: every new name is folded when it is indexed.
  if (ASCII.test(text)) return text.toLowerCase();
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

const ASCII = /^\p{ASCII}*$/u;

/** The words of a text: letter/digit runs after folding, each at most `MAX_WORD_LENGTH` long. */
export function tokenize(text: string): string[] {
  const ascii = tokenizeAscii(text);
  if (ascii) return ascii;
  const words = foldText(text).match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.map((w) => (w.length > MAX_WORD_LENGTH ? w.slice(0, MAX_WORD_LENGTH) : w));
}

/**
 * Puts each word of `text` in `words` at `group`, unless it is there at a lower group already:
 * every stored version's text is cut this way when the projection is built, without an array of its
 * words between.
 */
export function addWords(text: string, group: number, words: Map<string, number>): void {
  const keep = (word: string) => {
    const had = words.get(word);
    if (had === undefined || group < had) words.set(word, group);
  };
  if (!eachAsciiWord(text, keep)) for (const word of tokenize(text)) keep(word);
}

/**
 * `tokenize` for text that is all ASCII, without normalising (the identity on ASCII) or regular
 * expressions: the words of every stored version are cut when the projection is built, and this
 * is most of what a build costs. Null when the text holds anything beyond ASCII.
 */
function tokenizeAscii(text: string): string[] | null {
  const out: string[] = [];
  return eachAsciiWord(text, (word) => out.push(word)) ? out : null;
}

/**
 * Hands each word of an ASCII text to `each`, in order; false, at the first character beyond ASCII
 * (the words handed until then are whole words of the text).
 */
function eachAsciiWord(text: string, each: (word: string) => void): boolean {
  let start = -1;
  let lower = true;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    if (c > 127) return false;
    const upper = c >= 65 && c <= 90;
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122) || upper) {
      if (start < 0) {
        start = i;
        lower = true;
      }
      if (upper) lower = false;
    } else if (start >= 0) {
      const word = text.slice(start, Math.min(i, start + MAX_WORD_LENGTH));
      each(lower ? word : word.toLowerCase());
      start = -1;
    }
  }
  return true;
}

/**
 * True when `a` and `b` are at most one edit apart: an insertion, a deletion, a substitution or a
 * transposition of two adjacent letters (optimal string alignment distance ≤ 1).
 */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (la === lb) {
    // Substitution at i, or a transposition of i and i + 1.
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return (
      i + 1 < la &&
      a.charCodeAt(i) === b.charCodeAt(i + 1) &&
      a.charCodeAt(i + 1) === b.charCodeAt(i) &&
      a.slice(i + 2) === b.slice(i + 2)
    );
  }
  // One insertion/deletion at i.
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** Every string made by deleting one character of `word` (distinct). */
export function deletions(word: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i < word.length; i++) out.add(word.slice(0, i) + word.slice(i + 1));
  return [...out];
}
