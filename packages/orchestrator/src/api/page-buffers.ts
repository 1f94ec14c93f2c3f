import type { ServerResponse } from 'node:http';

/** A buffer is made at least this large, so that most pages fit the one kept. */
const MIN_BYTES = 64 * 1024;
/** A buffer larger than this (a page of hundreds of definitions) is not kept for reuse. */
const MAX_KEPT_BYTES = 1024 * 1024;

/**
 * Memory that list and search pages are written into, reused from one answer to the next: a fresh
 * 25 KiB buffer per page cost a distinct search up to a tenth of its time (the allocation, the
 * page faults of memory the allocator had just handed back to the system, and the collector).
 *
 * `take` lends a page its own memory: the kept buffer when it is free and large enough, a new one
 * otherwise, so that no two unsent pages ever share bytes. `release` takes it back only when nothing
 * can read it any more: the answer has ended and the socket took every byte at once (a write that
 * completed synchronously; a slow reader's pending write keeps its buffer, which is then left to the
 * collector). A buffer `take` did not lend is never kept, so pages that come from elsewhere (Node's
 * shared pool of small buffers) are safe to release.
 */
export class PageBuffers {
  private free: ArrayBuffer | null = null;
  /**
   * Pages lent and not yet given back, by the view `take` returned (not its memory: a view given back
   * twice must not free memory lent to a later page since).
   */
  private readonly lent = new WeakSet<Buffer>();

  /** A buffer of exactly `length` bytes that the caller owns until it gives it back. */
  readonly take = (length: number): Buffer => {
    const free = this.free;
    if (free !== null && free.byteLength >= length) {
      this.free = null;
      return this.lend(free, length);
    }
    // Never from Node's shared pool: a kept buffer must hold nothing but pages.
    return this.lend(Buffer.allocUnsafeSlow(Math.max(length, MIN_BYTES)).buffer as ArrayBuffer, length);
  };

  private lend(memory: ArrayBuffer, length: number): Buffer {
    const page = Buffer.from(memory, 0, length);
    this.lent.add(page);
    return page;
  }

  /**
   * Gives `page` back after it was sent on `res`, unless something may still read it: the answer is
   * not over, or bytes wait in the stream (a pending socket write holds the buffer). Whatever keeps
   * an answer past its sending keeps a copy of its bytes (the response cache: `ownBytes`).
   */
  release(page: Buffer, res: ServerResponse): void {
    if (!this.lent.delete(page)) return;
    const memory = page.buffer as ArrayBuffer;
    if (!res.writableEnded || res.writableLength !== 0 || res.destroyed) return;
    if (memory.byteLength > MAX_KEPT_BYTES) return;
    if (this.free === null || memory.byteLength > this.free.byteLength) this.free = memory;
  }
}
