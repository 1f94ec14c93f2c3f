/**
 * The log's head as this replica last saw it. The revision is read on every HTTP request; a
 * slightly old value is safe (a reader resuming from it sees events again, never misses one), so
 * `read` answers from memory for `ttlMs` after a read began, and this replica's own writes update
 * it at once through `note`. Concurrent reads share one request.
 */
export class HeadCache {
  private known = 0;
  private knownAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<number> | null = null;

  constructor(private readonly ttlMs: number) {}

  /** The cached head, or `fetch`'s answer when the cache is older than `ttlMs`. */
  read(fetch: () => Promise<number>): Promise<number> {
    if (performance.now() - this.knownAt < this.ttlMs) return Promise.resolve(this.known);
    if (!this.reading) {
      const started = performance.now();
      this.reading = fetch()
        .then((head) => {
          this.note(head, started);
          return this.known;
        })
        .finally(() => {
          this.reading = null;
        });
    }
    return this.reading;
  }

  /** Remembers a head read or written here; `readAt` (when the read began) makes it cacheable. */
  note(head: number, readAt: number | null): void {
    if (head > this.known) this.known = head;
    if (readAt !== null && readAt > this.knownAt) this.knownAt = readAt;
  }
}
