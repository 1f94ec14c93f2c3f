import { type ChunkSource, HEAP_CHUNKS } from './prefaulted-chunks.js';

/** The size of an arena's chunks unless told otherwise. */
export const ANSWER_CHUNK_BYTES = 1 << 20;

/**
 * Each doc's answer bytes (the UTF-8 JSON of its definition), packed end to end into large chunks
 * rather than held as a `Buffer` each. Made one by one, 100 000 definitions of ~1.2 KB were 100 000
 * buffers cut from 15 000 pools of 8 KiB, and making those pools was a tenth of building the search
 * projection at start-up.
 *
 * Chunks are only ever appended to: a replaced or dropped doc leaves its old bytes where they were,
 * counted as dead, and a chunk that falls to a quarter live has its docs copied to the chunk being
 * filled and is let go. A view handed out by `bytes` therefore never changes under its holder.
 */
export class AnswerArena {
  private readonly chunkBytes: number;
  private readonly source: ChunkSource;
  private readonly chunks: (Buffer | null)[] = [];
  /** chunk → bytes of it still some doc's. */
  private readonly live: number[] = [];
  /** Chunks let go, whose slots new chunks take. */
  private readonly freeSlots: number[] = [];
  /** The chunk being filled (-1: none yet) and how much of it is. */
  private current = -1;
  private used = 0;
  /** doc → its chunk (-1: no bytes), start and length. */
  private chunkOf = new Int32Array(0);
  private startOf = new Int32Array(0);
  private lengthOf = new Int32Array(0);

  /**
   * `chunkBytes`: the size of a chunk (a doc longer than a sixth of it gets a chunk of its own);
   * `source`: where chunks come from.
   */
  constructor(chunkBytes = ANSWER_CHUNK_BYTES, source: ChunkSource = HEAP_CHUNKS) {
    this.chunkBytes = chunkBytes;
    this.source = source;
  }

  /** Bytes held in chunks, dead ones included. */
  get heldBytes(): number {
    let n = 0;
    for (const chunk of this.chunks) if (chunk) n += chunk.length;
    return n;
  }

  has(doc: number): boolean {
    return doc < this.chunkOf.length && (this.chunkOf[doc] as number) !== -1;
  }

  /** The doc's byte length (0 when it has none). */
  length(doc: number): number {
    return this.has(doc) ? (this.lengthOf[doc] as number) : 0;
  }

  /** Gives a doc these bytes (the UTF-8 of `json`), replacing what it had. */
  put(doc: number, json: string): void {
    this.drop(doc);
    this.ensure(doc);
    // A UTF-16 unit is at most 3 bytes of UTF-8: room for that many is room for the whole.
    const bound = json.length * 3;
    if (bound > this.chunkBytes / 6) {
      const bytes = Buffer.from(json, 'utf8');
      this.place(doc, this.slotFor(bytes), 0, bytes.length);
      return;
    }
    const chunk = this.roomFor(bound);
    const written = chunk.write(json, this.used, 'utf8');
    this.place(doc, this.current, this.used, written);
    this.used += written;
  }

  /** Takes a doc's bytes away. */
  drop(doc: number): void {
    if (!this.has(doc)) return;
    const slot = this.chunkOf[doc] as number;
    this.chunkOf[doc] = -1;
    const live = (this.live[slot] as number) - (this.lengthOf[doc] as number);
    this.live[slot] = live;
    if (slot !== this.current) this.tidy(slot);
  }

  /** Copies a doc's bytes into `target` at `at`; returns how many. */
  copyTo(doc: number, target: Uint8Array, at: number): number {
    if (!this.has(doc)) return 0;
    const chunk = this.chunks[this.chunkOf[doc] as number] as Buffer;
    const start = this.startOf[doc] as number;
    const length = this.lengthOf[doc] as number;
    return chunk.copy(target, at, start, start + length);
  }

  /** A view of a doc's bytes (never to be written to); undefined when it has none. */
  bytes(doc: number): Buffer | undefined {
    if (!this.has(doc)) return undefined;
    const chunk = this.chunks[this.chunkOf[doc] as number] as Buffer;
    const start = this.startOf[doc] as number;
    return chunk.subarray(start, start + (this.lengthOf[doc] as number));
  }

  /** A doc's bytes as text; undefined when it has none. */
  text(doc: number): string | undefined {
    if (!this.has(doc)) return undefined;
    const chunk = this.chunks[this.chunkOf[doc] as number] as Buffer;
    const start = this.startOf[doc] as number;
    return chunk.toString('utf8', start, start + (this.lengthOf[doc] as number));
  }

  private place(doc: number, slot: number, start: number, length: number): void {
    this.chunkOf[doc] = slot;
    this.startOf[doc] = start;
    this.lengthOf[doc] = length;
    this.live[slot] = (this.live[slot] as number) + length;
  }

  /** The chunk being filled, with at least `bytes` free (a new one when it has not). */
  private roomFor(bytes: number): Buffer {
    const current = this.current === -1 ? null : (this.chunks[this.current] as Buffer);
    if (current && current.length - this.used >= bytes) return current;
    const previous = this.current;
    const chunk = this.source.take(this.chunkBytes);
    this.current = this.slotFor(chunk);
    this.used = 0;
    // The chunk left behind may already be mostly dead: it is judged now it is no longer filled.
    if (previous !== -1) this.tidy(previous);
    return chunk;
  }

  /** Lets a chunk no longer filled go when it is dead, or compacts it when it is mostly dead. */
  private tidy(slot: number): void {
    const live = this.live[slot] as number;
    if (live === 0) this.release(slot);
    else if (live * 4 < (this.chunks[slot] as Buffer).length) this.compact(slot);
  }

  private slotFor(chunk: Buffer): number {
    const slot = this.freeSlots.pop() ?? this.chunks.length;
    this.chunks[slot] = chunk;
    this.live[slot] = 0;
    return slot;
  }

  private release(slot: number): void {
    this.chunks[slot] = null;
    this.live[slot] = 0;
    this.freeSlots.push(slot);
  }

  /** Copies the live docs of a mostly dead chunk to the chunk being filled, and lets it go. */
  private compact(slot: number): void {
    const chunk = this.chunks[slot] as Buffer;
    // Found by a pass over every doc: a chunk is compacted once per three quarters of it dropped,
    // so the pass is paid once per several hundred writes.
    for (let doc = 0; doc < this.chunkOf.length; doc++) {
      if (this.chunkOf[doc] !== slot) continue;
      const start = this.startOf[doc] as number;
      const length = this.lengthOf[doc] as number;
      const target = this.roomFor(length);
      chunk.copy(target, this.used, start, start + length);
      this.live[slot] = (this.live[slot] as number) - length;
      this.place(doc, this.current, this.used, length);
      this.used += length;
    }
    this.release(slot);
  }

  private ensure(doc: number): void {
    if (doc < this.chunkOf.length) return;
    const size = Math.max(1024, this.chunkOf.length * 2, doc + 1);
    const grow = (old: Int32Array, fill: number) => {
      const next = new Int32Array(size).fill(fill);
      next.set(old);
      return next;
    };
    this.chunkOf = grow(this.chunkOf, -1);
    this.startOf = grow(this.startOf, 0);
    this.lengthOf = grow(this.lengthOf, 0);
  }
}
