/**
 * In-process mutual exclusion per key. Callers of one key run one after the other, in arrival
 * order; different keys never wait for each other. Entries are dropped when their queue empties,
 * so the map holds only keys with work in flight.
 */
export class KeyedLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` once every earlier holder of `key` has finished (whether it succeeded or not). */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A free key (the usual case: creates of different names) starts at once, with no chain.
    const tail = previous ? previous.then(() => mine) : mine;
    this.tails.set(key, tail);
    if (previous) await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /**
   * Runs `work` holding every key at once (a changeset's names). Keys are taken one by one in
   * sorted order, so two callers sharing keys can never each hold one the other waits for.
   */
  async runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const take = (i: number): Promise<T> => {
      const key = sorted[i];
      return key === undefined ? work() : this.run(key, () => take(i + 1));
    };
    return take(0);
  }

  /** Keys with work running or waiting. */
  size(): number {
    return this.tails.size;
  }
}
