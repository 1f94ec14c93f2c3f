/** Room left between two neighbours' labels when everything is labelled afresh. */
const GAP = 2 ** 20;

/**
 * Slots sorted by name, and for each slot a label that grows with its name: comparing two labels
 * compares the names without touching the strings. Labels have gaps, so a new name takes the
 * midpoint of its neighbours' labels and nothing else moves; only when a gap is used up (20 names
 * inserted at one spot) is every slot labelled again. A dense rank rebuilt on every new name cost
 * an array of the whole catalog per create.
 */
export class NameOrder {
  private readonly nameOf: (slot: number) => string;
  /** Slots in name order. */
  private readonly slots: number[] = [];
  /** slot → label; grows with the name. */
  private labels = new Float64Array(64);
  /** True while each slot was numbered after the last and its name sorted after all before it. */
  private slotOrder = true;
  /**
   * Slots below this were each added with the next number and a name above every name before it:
   * their numbers are in name order among themselves, whatever was inserted between them since.
   */
  private ordered = 0;
  /** slot → position in name order, made on first use after an insert. */
  private positionOf: Int32Array | null = null;

  /** `nameOf`: the name a slot holds (slots are never renamed). */
  constructor(nameOf: (slot: number) => string) {
    this.nameOf = nameOf;
  }

  get length(): number {
    return this.slots.length;
  }

  /** Slot at a position of name order. */
  at(position: number): number {
    return this.slots[position] as number;
  }

  /** The label of a slot: `label(a) < label(b)` exactly when a's name sorts before b's. */
  label(slot: number): number {
    return this.labels[slot] as number;
  }

  /** The label array itself, for tight loops (read only; replaced when it grows). */
  get labelArray(): Float64Array {
    return this.labels;
  }

  /**
   * Whether slot order is name order (every slot was added with the next number and a name above
   * every name before it, as a build from a listing adds them): a walk in slot order is in name order.
   */
  get inSlotOrder(): boolean {
    return this.slotOrder;
  }

  /** Slots numbered below this sort by name as by number (those a build from a listing added). */
  get sortedBelow(): number {
    return this.ordered;
  }

  /** slot → its position in name order (read only; made again after an insert). */
  positions(): Int32Array {
    if (this.positionOf) return this.positionOf;
    const positions = new Int32Array(this.labels.length);
    for (let i = 0; i < this.slots.length; i++) positions[this.slots[i] as number] = i;
    this.positionOf = positions;
    return positions;
  }

  /** Position of the first name strictly after `name`. */
  after(name: string): number {
    let lo = 0;
    let hi = this.slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.nameOf(this.slots[mid] as number) <= name) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds a new slot at its name's place. Names arriving in order (a build from a listing) append. */
  insert(slot: number): void {
    const name = this.nameOf(slot);
    if (slot >= this.labels.length) {
      const labels = new Float64Array(Math.max(slot + 1, this.labels.length * 2));
      labels.set(this.labels);
      this.labels = labels;
    }
    const n = this.slots.length;
    let at: number;
    if (n === 0 || this.nameOf(this.slots[n - 1] as number) < name) {
      at = n;
    } else {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.nameOf(this.slots[mid] as number) < name) lo = mid + 1;
        else hi = mid;
      }
      at = lo;
    }
    if (at !== n || slot !== n) this.slotOrder = false;
    else if (this.slotOrder) this.ordered = n + 1;
    this.positionOf = null;
    const below = at > 0 ? (this.labels[this.slots[at - 1] as number] as number) : 0;
    if (at === n) {
      this.slots.push(slot);
      this.labels[slot] = below + GAP;
      return;
    }
    const above = this.labels[this.slots[at] as number] as number;
    this.slots.splice(at, 0, slot);
    if (above - below >= 2) this.labels[slot] = Math.floor((below + above) / 2);
    else this.relabel();
  }

  private relabel(): void {
    for (let i = 0; i < this.slots.length; i++) this.labels[this.slots[i] as number] = (i + 1) * GAP;
  }
}
