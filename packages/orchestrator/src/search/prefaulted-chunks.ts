import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

/** Where an `AnswerArena` takes the chunks it fills. */
export interface ChunkSource {
  /** A chunk of `bytes` bytes, its contents unspecified (the arena writes what it reads back). */
  take(bytes: number): Buffer;
}

/**
 * Chunks from the process's allocator, their pages mapped as they are first written. Not from
 * Node's shared pool: a chunk lives as long as its docs do.
 */
export const HEAP_CHUNKS: ChunkSource = { take: (bytes) => Buffer.allocUnsafeSlow(bytes) };

/**
 * The worker's whole program (CommonJS, as an eval'd worker runs): for each count it is sent, makes
 * that many chunks, writes a byte of every page of each, and hands each over (transferred: the
 * worker cannot write a chunk once the main thread may hold it).
 */
const PROGRAM = `
const { workerData } = require('node:worker_threads');
const { port, chunkBytes } = workerData;
port.on('message', (count) => {
  for (let n = 0; n < count; n++) {
    const memory = new ArrayBuffer(chunkBytes);
    const bytes = new Uint8Array(memory);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 0;
    port.postMessage(memory, [memory]);
  }
});
`;

/**
 * Chunks whose pages a worker thread has already written, for a build that fills many: the first
 * write to a page of fresh memory is a page fault (the kernel maps and zeroes the page), and the
 * answer bytes of 100 000 definitions are ~150 MB, ~37 000 pages, which cost the main thread
 * 0.45 s of a 5 s build (2026-12-03, a VM where a fault costs ~12 µs). The worker makes them on
 * the other core, `ahead` chunks before the arena needs them.
 *
 * The worker starts once `startAfter` chunks have been taken (a small catalog never starts it).
 * Chunks cross as transferred `ArrayBuffer`s, picked up without waiting (`receiveMessageOnPort`:
 * a build's walk may not give the event loop a turn); when none has arrived, the chunk comes from
 * the heap instead. Not shared memory: a copy out of a `SharedArrayBuffer` took 0.48 µs a
 * definition against 0.1 µs (V8 copies shared memory with relaxed atomics), on every page served.
 * `stop` ends the worker; chunks that had arrived are still handed out.
 */
export class PrefaultedChunks implements ChunkSource {
  private readonly chunkBytes: number;
  private readonly startAfter: number;
  private readonly ahead: number;
  /** Chunks arrived and not yet handed out, oldest first. */
  private readonly arrived: Buffer[] = [];
  private takes = 0;
  private handedOut = 0;
  private worker: Worker | null = null;
  private port: MessagePort | null = null;
  private stopped = false;

  constructor(opts: { chunkBytes: number; startAfter?: number; ahead?: number }) {
    this.chunkBytes = opts.chunkBytes;
    this.startAfter = opts.startAfter ?? 4;
    this.ahead = opts.ahead ?? 4;
  }

  /** Chunks the worker made that have been handed out. */
  get madeAhead(): number {
    return this.handedOut;
  }

  /** Chunks arrived from the worker and not yet handed out. */
  get ready(): number {
    this.receive();
    return this.arrived.length;
  }

  take(bytes: number): Buffer {
    if (bytes !== this.chunkBytes) return HEAP_CHUNKS.take(bytes);
    this.takes++;
    if (this.worker === null && !this.stopped && this.takes > this.startAfter) this.start();
    this.receive();
    const chunk = this.arrived.shift();
    if (chunk === undefined) return HEAP_CHUNKS.take(bytes);
    // One more in the making for each handed out: `ahead` are always arrived or on their way.
    this.port?.postMessage(1);
    this.handedOut++;
    return chunk;
  }

  /** Ends the worker. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.receive();
    this.stopped = true;
    this.port?.close();
    this.port = null;
    void this.worker?.terminate();
    this.worker = null;
  }

  private receive(): void {
    const port = this.port;
    if (port === null) return;
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      this.arrived.push(Buffer.from(m.message as ArrayBuffer));
    }
  }

  private start(): void {
    const { port1, port2 } = new MessageChannel();
    try {
      this.worker = new Worker(PROGRAM, {
        eval: true,
        workerData: { port: port2, chunkBytes: this.chunkBytes },
        transferList: [port2],
      });
    } catch {
      // No worker: every chunk from the heap, as without this source.
      port1.close();
      this.stopped = true;
      return;
    }
    this.worker.unref();
    this.worker.on('error', () => this.stop());
    port1.unref();
    this.port = port1;
    port1.postMessage(this.ahead);
  }
}
