/** Ids held in an arena are at least this many before it grows. */
const MIN_IDS = 1024;

/**
 * Each doc's facet value ids, for every doc of the index in one array: a doc's ids are a range of
 * it. A small typed array per doc (two per component) was hundreds of thousands of objects for the
 * collector to mark and sweep: at 100 000 components they were about 60 % of a full collection's
 * time, which a catalog serving searches pays every second or two.
 *
 * A doc's new ids are appended and its old range left behind; once the array is full, the ranges
 * still held are copied into a new one (twice their size), so a write costs its ids amortised.
 * `of` returns a view of the array as it is: a later `set` never writes over a range a view holds
 * (it appends, or copies into a new array), so a doc's ids read before a write stay as they were.
 */
export class DocValues {
  private ids = new Int32Array(MIN_IDS);
  /** End of the ids written so far. */
  private used = 0;
  /** Ids in the ranges docs hold now. */
  private held = 0;
  /** doc → where its ids start. */
  private starts = new Int32Array(0);
  /** doc → how many ids it holds; -1 for a doc that holds none (absent). */
  private counts = new Int32Array(0);

  /** Makes room for docs below `docs` (those not set hold none). */
  ensure(docs: number): void {
    if (docs <= this.counts.length) return;
    const starts = new Int32Array(docs);
    starts.set(this.starts);
    const counts = new Int32Array(docs).fill(-1);
    counts.set(this.counts);
    this.starts = starts;
    this.counts = counts;
  }

  /** Sets a doc's ids (the doc must be below what `ensure` made room for). */
  set(doc: number, values: ArrayLike<number>): void {
    this.clear(doc);
    const n = values.length;
    if (this.used + n > this.ids.length) this.repack(n);
    const at = this.used;
    for (let i = 0; i < n; i++) this.ids[at + i] = values[i] as number;
    this.starts[doc] = at;
    this.counts[doc] = n;
    this.used += n;
    this.held += n;
  }

  /** The doc holds no ids any more. */
  clear(doc: number): void {
    const count = this.counts[doc] as number;
    if (count < 0) return;
    this.held -= count;
    this.counts[doc] = -1;
  }

  /** A doc's ids (a view), or undefined when it holds none. */
  of(doc: number): Int32Array | undefined {
    const count = doc < this.counts.length ? (this.counts[doc] as number) : -1;
    if (count < 0) return undefined;
    const start = this.starts[doc] as number;
    return this.ids.subarray(start, start + count);
  }

  /**
   * The arrays themselves, for loops over many docs: doc `d`'s ids are `ids[starts[d]]` onwards,
   * `counts[d]` of them (-1: none). Valid until the next `set` or `ensure`.
   */
  raw(): { ids: Int32Array; starts: Int32Array; counts: Int32Array } {
    return { ids: this.ids, starts: this.starts, counts: this.counts };
  }

  /** Copies the ranges held into a new array with room for them twice over and `more`. */
  private repack(more: number): void {
    const ids = new Int32Array(Math.max(MIN_IDS, 2 * (this.held + more)));
    let at = 0;
    const { starts, counts } = this;
    for (let doc = 0; doc < counts.length; doc++) {
      const count = counts[doc] as number;
      if (count < 0) continue;
      const start = starts[doc] as number;
      ids.set(this.ids.subarray(start, start + count), at);
      starts[doc] = at;
      at += count;
    }
    this.ids = ids;
    this.used = at;
  }
}
