import { describe, expect, it } from 'vitest';
import { AnswerArena } from './answer-arena.js';
import { PrefaultedChunks } from './prefaulted-chunks.js';

/** Resolves once `check` holds, polling; fails after two seconds. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('PrefaultedChunks', () => {
  it('hands out heap chunks until it has been asked for a few, then chunks its worker has written', async () => {
    const chunks = new PrefaultedChunks({ chunkBytes: 64 * 1024, startAfter: 2, ahead: 3 });
    try {
      chunks.take(64 * 1024);
      chunks.take(64 * 1024);
      expect(chunks.ready).toBe(0);
      // The third take starts the worker and asks it for three chunks; none has arrived yet.
      expect(chunks.take(64 * 1024).length).toBe(64 * 1024);
      expect(chunks.madeAhead).toBe(0);
      await until(() => chunks.ready === 3);
      expect(chunks.take(64 * 1024).length).toBe(64 * 1024);
      expect(chunks.madeAhead).toBe(1);
      // Another size is not what the worker makes.
      expect(chunks.take(1_000).length).toBe(1_000);
      expect(chunks.madeAhead).toBe(1);
      // The one handed out is made again.
      await until(() => chunks.ready === 3);
    } finally {
      chunks.stop();
    }
  });

  it('hands out chunks the worker no longer writes: what the taker writes stays', async () => {
    const chunks = new PrefaultedChunks({ chunkBytes: 256 * 1024, startAfter: 0, ahead: 8 });
    const taken: Buffer[] = [];
    try {
      // Taken as fast as possible from the start: the worker is behind for most of them.
      for (let i = 0; i < 200; i++) {
        const chunk = chunks.take(256 * 1024);
        chunk.fill(0xff);
        taken.push(chunk);
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 1));
      }
      // Everything asked for is made before looking: a write the worker made late would be there now.
      await until(() => chunks.ready === 8);
    } finally {
      chunks.stop();
    }
    expect(chunks.madeAhead).toBeGreaterThan(0);
    for (const chunk of taken) expect(chunk.includes(0)).toBe(false);
  });

  it('keeps the chunks that arrived once stopped, then takes from the heap', async () => {
    const chunks = new PrefaultedChunks({ chunkBytes: 32 * 1024, startAfter: 0, ahead: 4 });
    chunks.take(32 * 1024);
    await until(() => chunks.ready === 4);
    chunks.stop();
    chunks.stop();
    expect(chunks.ready).toBe(4);
    for (let i = 0; i < 4; i++) chunks.take(32 * 1024);
    expect(chunks.madeAhead).toBe(4);
    expect(chunks.ready).toBe(0);
    chunks.take(32 * 1024);
    expect(chunks.madeAhead).toBe(4);
  });

  it('gives an arena chunks that hold every doc as written', async () => {
    const chunks = new PrefaultedChunks({ chunkBytes: 8 * 1024, startAfter: 0, ahead: 4 });
    const arena = new AnswerArena(8 * 1024, chunks);
    const doc = (i: number) => JSON.stringify({ name: `svc-${i}`, description: 'é'.repeat(i % 300) });
    try {
      for (let i = 0; i < 2_000; i++) {
        arena.put(i, doc(i));
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      chunks.stop();
    }
    for (let i = 0; i < 2_000; i++) expect(arena.text(i)).toBe(doc(i));
  });
});
