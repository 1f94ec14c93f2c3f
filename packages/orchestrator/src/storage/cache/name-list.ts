/**
 * The cached list of component names, sorted, kept current through creates at a cost that does not
 * follow the catalog: a create adds its name to a short sorted side list, and the side list is merged
 * into the main one only once it has grown to a fraction of it (or when the list is read). Copying
 * 100 000 names on every create cost more than the create itself.
 */
export class NameList {
  private base: readonly string[];
  private added: string[] = [];

  /** `sorted`: distinct names in ascending order (the store's `listComponentNames`). */
  constructor(sorted: readonly string[]) {
    this.base = sorted;
  }

  get length(): number {
    return this.base.length + this.added.length;
  }

  /** Adds a name; false when it was already there. */
  add(name: string): boolean {
    if (this.base[lowerBound(this.base, name)] === name) return false;
    const at = lowerBound(this.added, name);
    if (this.added[at] === name) return false;
    this.added.splice(at, 0, name);
    // Merging costs the whole list: only after as many adds as the square root of its length.
    if (this.added.length * this.added.length > this.base.length + 1024) this.merge();
    return true;
  }

  /** Every name, sorted, in a fresh array the caller may keep. */
  toArray(): string[] {
    this.merge();
    return [...this.base];
  }

  private merge(): void {
    if (this.added.length === 0) return;
    const a = this.base;
    const b = this.added;
    const out = new Array<string>(a.length + b.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < a.length && j < b.length)
      out[k++] = (a[i] as string) < (b[j] as string) ? (a[i++] as string) : (b[j++] as string);
    while (i < a.length) out[k++] = a[i++] as string;
    while (j < b.length) out[k++] = b[j++] as string;
    this.base = out;
    this.added = [];
  }
}

function lowerBound(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
