/** How one item of a batch ended: its own result or its own error, whatever the others did. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitterOptions<I, R> {
  /**
   * Writes `items` in one transaction, in order, each isolated from the others (a savepoint or
   * equivalent: an item that fails leaves nothing behind and does not fail the rest), and commits.
   * Answers one `Settled` per item, in order, only once the commit is durable; throws when the batch
   * as a whole failed (the commit, the connection), which fails every item of it.
   */
  run: (items: readonly I[]) => Promise<readonly Settled<R>[]> | readonly Settled<R>[];
  /** The most items one transaction takes (default 64); the rest wait for the next one. */
  maxBatch?: number;
}

interface Waiting<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit (docs/decisions.md 27): writes submitted while a batch is being written, or in the
 * same turn of the event loop as the first of them, share the next transaction, so concurrent
 * creates pay one commit between them instead of one each. Batches run one at a time, in
 * submission order; what an item sees of the catalog (and the sequence of its event) includes the
 * items before it in its batch.
 */
export class GroupCommitter<I, R> {
  private readonly run: GroupCommitterOptions<I, R>['run'];
  private readonly maxBatch: number;
  private queue: Waiting<I, R>[] = [];
  /** True from the first submission until the queue is empty again. */
  private draining = false;

  constructor(opts: GroupCommitterOptions<I, R>) {
    this.run = opts.run;
    this.maxBatch = Math.max(1, opts.maxBatch ?? 64);
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      // Wait for the end of this turn: the other requests read from the sockets in the same poll
      // phase reach here before it ends (a synchronous store never leaves a batch in flight for
      // them to arrive during).
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      let settled: readonly Settled<R>[];
      try {
        settled = await this.run(batch.map((w) => w.item));
        if (settled.length !== batch.length) throw new Error(`a batch of ${batch.length} answered ${settled.length}`);
      } catch (err) {
        for (const w of batch) w.reject(err);
        continue;
      }
      batch.forEach((w, i) => {
        const s = settled[i] as Settled<R>;
        if (s.ok) w.resolve(s.value);
        else w.reject(s.error);
      });
    }
    this.draining = false;
  }
}
