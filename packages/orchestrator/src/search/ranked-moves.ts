/**
 * Placing a write's moves in a ranked list (a word set's docs, best match first, then by name): the
 * docs leaving are taken out and the docs arriving put in where their code and name rank them, in a
 * copy (`mergeMoves`) or within the list's own spare room (`placeInPlace`).
 */

/** A ranked list's docs and their codes, in parallel. */
export interface RankedArrays {
  docs: Int32Array;
  codes: Uint8Array;
}

/** A doc arriving in a ranked list: the position it goes to among the docs as they were, and its code. */
export interface Arrival {
  at: number;
  doc: number;
  code: number;
}

/**
 * Arrays for `capacity` docs and their codes, in one buffer, not zero-filled: a list is written
 * before it is read, and the room past it is read by no one.
 */
export function arraysOf(capacity: number): RankedArrays {
  const bytes = Buffer.allocUnsafeSlow(capacity * 5).buffer;
  return { docs: new Int32Array(bytes, 0, capacity), codes: new Uint8Array(bytes, capacity * 4, capacity) };
}

/**
 * A ranked list with `leaving` (ascending positions) taken out and `arriving` (ascending positions
 * among the docs as they were) put in, copied once into new arrays of `capacity` entries.
 */
export function mergeMoves(
  docs: Int32Array,
  codes: Uint8Array,
  leaving: readonly number[],
  arriving: readonly Arrival[],
  capacity: number,
): RankedArrays {
  const n = docs.length;
  const { docs: outDocs, codes: outCodes } = arraysOf(capacity);
  let src = 0;
  let dst = 0;
  let l = 0;
  let a = 0;
  for (;;) {
    const nextLeaving = l < leaving.length ? (leaving[l] as number) : n;
    const nextArriving = a < arriving.length ? (arriving[a] as Arrival).at : n;
    const next = Math.min(nextLeaving, nextArriving);
    outDocs.set(docs.subarray(src, next), dst);
    outCodes.set(codes.subarray(src, next), dst);
    dst += next - src;
    src = next;
    // A doc arriving where one leaves ranks before it (the lower bound among the docs as they were).
    if (a < arriving.length && nextArriving === src) {
      const { doc, code } = arriving[a++] as Arrival;
      outDocs[dst] = doc;
      outCodes[dst++] = code;
    } else if (l < leaving.length && nextLeaving === src) {
      src++;
      l++;
    } else {
      break;
    }
  }
  return { docs: outDocs, codes: outCodes };
}

/**
 * `mergeMoves` within the room's own arrays (the first `n` entries the list; room for the result):
 * the leaving docs are closed up front to back, then the arriving ones opened back to front, so each
 * entry moves at most twice and nothing is allocated.
 */
export function placeInPlace(
  room: RankedArrays,
  n: number,
  leaving: readonly number[],
  arriving: readonly Arrival[],
): void {
  const { docs, codes } = room;
  let dst = leaving.length > 0 ? (leaving[0] as number) : n;
  for (let l = 0; l < leaving.length; l++) {
    const from = (leaving[l] as number) + 1;
    const to = l + 1 < leaving.length ? (leaving[l + 1] as number) : n;
    docs.copyWithin(dst, from, to);
    codes.copyWithin(dst, from, to);
    dst += to - from;
  }
  // Arriving positions among the docs left: less the leaving docs before each (both ascend). A doc
  // arriving where one left ranks before the doc that followed it, as in `mergeMoves`.
  const at = new Int32Array(arriving.length);
  let l = 0;
  for (let a = 0; a < arriving.length; a++) {
    const place = (arriving[a] as Arrival).at;
    while (l < leaving.length && (leaving[l] as number) < place) l++;
    at[a] = place - l;
  }
  let src = n - leaving.length;
  for (let a = arriving.length - 1; a >= 0; a--) {
    const place = at[a] as number;
    docs.copyWithin(place + a + 1, place, src);
    codes.copyWithin(place + a + 1, place, src);
    const { doc, code } = arriving[a] as Arrival;
    docs[place + a] = doc;
    codes[place + a] = code;
    src = place;
  }
}
