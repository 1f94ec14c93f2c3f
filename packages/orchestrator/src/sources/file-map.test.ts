import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { FileMapStore, type FileVersions } from './file-map.js';

describe('FileMapStore', () => {
  it('round-trips a large map in chunks small enough for any store, alternating generations', async () => {
    const state = new MemoryStore();
    const files = new FileMapStore({ state, source: 'platform' });
    expect(await files.exists()).toBe(false);
    expect(await files.read()).toBeNull();
    const big: FileVersions = new Map();
    for (let i = 0; i < 5000; i++)
      big.set(`team-${i % 50}/component-${i}/component.yaml`, [`comp-${i}@1.0.0`, `comp-${i}@1.1.0`]);
    await files.write(big, null);
    const first = await files.read();
    expect(first?.generation).toBe('a');
    expect(first?.files).toEqual(big);
    const header = (await state.getState('source-files:platform')) as { chunks: number };
    expect(header.chunks).toBeGreaterThan(1);
    for (let i = 0; i < header.chunks; i++) {
      expect(JSON.stringify(await state.getState(`source-files:platform:a:${i}`)).length).toBeLessThanOrEqual(
        256 * 1024,
      );
    }

    // A rewrite goes to the other generation; the header moves last, so the old map stays whole until then.
    const small: FileVersions = new Map([['a/component.yaml', ['a@1.0.0']]]);
    await files.write(small, 'a');
    expect(await files.read()).toEqual({ files: small, generation: 'b' });
    expect(await state.getState('source-files:platform:a:0')).not.toBeNull();
  });
});
