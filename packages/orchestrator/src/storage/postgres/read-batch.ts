/**
 * Concurrent point reads gathered into one statement. Reads asked in one turn of the event loop
 * (the requests of one poll of the sockets) go out together at its end, while fewer than
 * `inFlight` statements run; reads that arrive while that many run wait, and the next statement to
 * go out carries all of them (up to `maxBatch`). An idle server sends a lone read after one turn;
 * under load each round trip answers many requests. A PostgreSQL point read costs the client about
 * 80 µs of CPU whatever it returns (protocol, the pool, the result's objects, the socket write);
 * one statement for eight keys about 40 µs a key (docs/benchmarks.md).
 *
 * A failed statement fails every read it carried, with its error; the reads are idempotent, so the
 * caller's retry covers them as it covers one.
 */
export class ReadBatcher<K, V> {
  private readonly run: (keys: readonly K[]) => Promise<readonly V[]>;
  private readonly inFlight: number;
  private readonly maxBatch: number;
  private waiting: Waiter<K, V>[] = [];
  private running = 0;
  private scheduled = false;

  constructor(opts: {
    /** Reads the keys in one statement; answers in the keys' order, one value each. */
    run: (keys: readonly K[]) => Promise<readonly V[]>;
    inFlight?: number;
    maxBatch?: number;
  }) {
    this.run = opts.run;
    this.inFlight = Math.max(1, opts.inFlight ?? 2);
    this.maxBatch = Math.max(1, opts.maxBatch ?? 256);
  }

  load(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    this.dispatch();
  };

  private dispatch(): void {
    while (this.running < this.inFlight && this.waiting.length > 0) {
      const batch = this.waiting.length <= this.maxBatch ? this.waiting : this.waiting.slice(0, this.maxBatch);
      this.waiting = batch === this.waiting ? [] : this.waiting.slice(this.maxBatch);
      this.running++;
      this.send(batch);
    }
  }

  private send(batch: Waiter<K, V>[]): void {
    let answer: Promise<readonly V[]>;
    try {
      answer = this.run(batch.map((w) => w.key));
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer
      .then(
        (values) => {
          for (let i = 0; i < batch.length; i++) (batch[i] as Waiter<K, V>).resolve(values[i] as V);
        },
        (err: unknown) => {
          for (const w of batch) w.reject(err);
        },
      )
      .finally(() => {
        this.running--;
        this.dispatch();
      });
  }
}

interface Waiter<K, V> {
  key: K;
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
}
