/**
 * JSON written as bytes straight into a page, for the parts of a list or search answer made on every
 * request: numbers as their digits, texts made once as bytes. What each writes is what
 * `JSON.stringify` writes for the same value.
 */

const ZERO = 0x30;
const DOT = 0x2e;
const CLOSE = 0x7d;

/** Digits of a whole number ≥ 0. */
export function digitCount(n: number): number {
  let count = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) count++;
  return count;
}

/** Writes the digits of a whole number ≥ 0 (below 2^53) into `out` at `at`; returns how many. */
export function writeDigits(out: Uint8Array, at: number, n: number): number {
  const count = digitCount(n);
  let rest = n;
  for (let i = count - 1; i >= 0; i--) {
    const next = Math.floor(rest / 10);
    out[at + i] = ZERO + (rest - next * 10);
    rest = next;
  }
  return count;
}

// A search item's score member, `,"score":<score>}`: the score is in points rounded to cents
// (`publicScore`). Turning each of a page's twenty scores into a string and writing the string was
// 3 µs of every search answer; the digits of its whole number of cents are written directly.

const SCORE_OPEN = Buffer.from(',"score":');
/** Past this, cents are not written digit by digit (no score comes near: 16 words make 1.6e9 cents). */
const MAX_CENTS = 1e15;

/** The score's whole number of cents, or -1 when it is not one (then it is written as JSON writes it). */
function centsOf(score: number): number {
  const cents = Math.round(score * 100);
  return cents >= 0 && cents < MAX_CENTS && cents / 100 === score ? cents : -1;
}

/** Bytes `writeScore` writes for `score`. */
export function scoreLength(score: number): number {
  const cents = centsOf(score);
  // A JSON number is ASCII: a byte a character.
  if (cents < 0) return `,"score":${JSON.stringify(score)}}`.length;
  const whole = Math.floor(cents / 100);
  const fraction = cents - whole * 100;
  return SCORE_OPEN.length + digitCount(whole) + (fraction === 0 ? 0 : fraction % 10 === 0 ? 2 : 3) + 1;
}

/** Writes `,"score":<score>}` into `out` at `at`; returns the bytes written (`scoreLength`). */
export function writeScore(out: Uint8Array, at: number, score: number): number {
  const cents = centsOf(score);
  if (cents < 0) {
    const text = `,"score":${JSON.stringify(score)}}`;
    for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
    return text.length;
  }
  out.set(SCORE_OPEN, at);
  let p = at + SCORE_OPEN.length;
  const whole = Math.floor(cents / 100);
  const fraction = cents - whole * 100;
  p += writeDigits(out, p, whole);
  if (fraction !== 0) {
    out[p++] = DOT;
    out[p++] = ZERO + Math.floor(fraction / 10);
    if (fraction % 10 !== 0) out[p++] = ZERO + (fraction % 10);
  }
  out[p++] = CLOSE;
  return p - at;
}
