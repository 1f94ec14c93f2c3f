import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerArena } from './answer-arena.js';

describe('AnswerArena', () => {
  it('holds each doc its last bytes through puts, drops and compactions; views handed out never change', () => {
    const op = fc.record({
      doc: fc.integer({ min: 0, max: 60 }),
      // Text up to a chunk and a half long (JSON-ish, with multi-byte characters and emoji), or a drop.
      json: fc.option(fc.string({ unit: 'grapheme', maxLength: 400 }), { freq: 4 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        // Small chunks, so that a few writes fill them, leave them mostly dead and give long docs
        // chunks of their own.
        const arena = new AnswerArena(512);
        const model = new Map<number, string>();
        const views: [Buffer, string][] = [];
        for (const { doc, json } of ops) {
          if (json === null) {
            arena.drop(doc);
            model.delete(doc);
          } else {
            arena.put(doc, json);
            model.set(doc, json);
            views.push([arena.bytes(doc) as Buffer, json]);
          }
        }
        const target = Buffer.alloc(64 * 1024);
        for (let doc = 0; doc <= 60; doc++) {
          const want = model.get(doc);
          expect(arena.has(doc)).toBe(want !== undefined);
          expect(arena.text(doc)).toBe(want);
          expect(arena.length(doc)).toBe(want === undefined ? 0 : Buffer.byteLength(want));
          const n = arena.copyTo(doc, target, 3);
          expect(target.toString('utf8', 3, 3 + n)).toBe(want ?? '');
        }
        for (const [view, json] of views) expect(view.toString('utf8')).toBe(json);
        // Dead bytes are let go: what the arena holds stays within a bound of what is live.
        let live = 0;
        for (const json of model.values()) live += Buffer.byteLength(json);
        expect(arena.heldBytes).toBeLessThanOrEqual(4 * live + 512);
      }),
    );
  });

  it('keeps a catalog rewritten many times, a few docs at a time, within a few times its live bytes', () => {
    const arena = new AnswerArena(64 * 1024);
    const doc = (i: number, round: number) => JSON.stringify({ name: `component-${i}`, round, text: 'x'.repeat(900) });
    const last = new Map<number, number>();
    // A few docs rewritten at a time leave each chunk partly dead, which only compaction lets go.
    let seed = 7;
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 1_000; i++) {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        if (round > 0 && seed % 10 >= 3) continue;
        arena.put(i, doc(i, round));
        last.set(i, round);
      }
    }
    let live = 0;
    for (let i = 0; i < 1_000; i++) {
      expect(arena.text(i)).toBe(doc(i, last.get(i) as number));
      live += arena.length(i);
    }
    expect(arena.heldBytes).toBeLessThan(2 * live);
  });
});
