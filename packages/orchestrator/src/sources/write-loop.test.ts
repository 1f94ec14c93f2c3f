import { type ComponentSpec, NestorError, validationFailed } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { writeInOrder } from './write-loop.js';

type Item = { parsed: { spec: ComponentSpec } };

const item = (name: string, version: string, deps: string[] = []): Item => ({
  parsed: {
    spec: {
      name,
      version,
      dependencies: deps.map((d) => ({ name: d, version_range: '*' })),
    } as unknown as ComponentSpec,
  },
});

const missingDependency = (name: string) =>
  validationFailed('test', 'Write', {
    errors: [{ rule: 'dependencies', code: 'dependency_not_found', field: 'dependencies[0]', message: `${name}` }],
  } as never);

describe('writeInOrder', () => {
  it('writes dependencies first and each name in ascending versions', async () => {
    const written: string[] = [];
    const result = await writeInOrder([item('app', '2.0.0', ['base']), item('app', '1.0.0'), item('base', '1.0.0')], {
      write: async ({ parsed: { spec } }) => {
        written.push(`${spec.name}@${spec.version}`);
        return { created: spec.name !== 'base' };
      },
      failed: () => true,
    });
    expect(written).toEqual(['base@1.0.0', 'app@1.0.0', 'app@2.0.0']);
    expect(result).toEqual({ created: 2, unchanged: 1, complete: true });
  });

  it('retries items that lacked only a dependency while a pass wrote something, then reports them', async () => {
    // A cycle broken by name order: `a` is tried before the `b` it needs; `c` needs a name never written.
    const present = new Set<string>();
    const failures: string[] = [];
    const result = await writeInOrder(
      [item('a', '1.0.0', ['b']), item('b', '1.0.0', ['a']), item('c', '1.0.0', ['x'])],
      {
        write: async ({ parsed: { spec } }) => {
          const need = spec.name === 'a' ? 'b' : spec.name === 'c' ? 'x' : null;
          if (need && !present.has(need)) throw missingDependency(need);
          present.add(spec.name);
          return { created: true };
        },
        failed: ({ parsed: { spec } }) => {
          failures.push(spec.name);
          return true;
        },
      },
    );
    expect([...present]).toEqual(['b', 'a']);
    expect(failures).toEqual(['c']);
    expect(result).toEqual({ created: 2, unchanged: 0, complete: true });
  });

  it('is incomplete when a failure is not the item’s fault or the signal stops it', async () => {
    const broken = await writeInOrder([item('a', '1.0.0'), item('b', '1.0.0')], {
      write: async ({ parsed: { spec } }) => {
        if (spec.name === 'a') throw new NestorError('storage_failure', 'down');
        return { created: true };
      },
      failed: (_item, err) => !NestorError.hasCode(err, 'storage_failure'),
    });
    expect(broken).toEqual({ created: 1, unchanged: 0, complete: false });

    const controller = new AbortController();
    const stopped = await writeInOrder([item('a', '1.0.0'), item('b', '1.0.0')], {
      write: async () => {
        controller.abort();
        return { created: true };
      },
      failed: () => true,
      signal: controller.signal,
    });
    expect(stopped).toEqual({ created: 1, unchanged: 0, complete: false });
  });

  it('reports progress every `progressEvery` writes and at both ends', async () => {
    const seen: [number, number][] = [];
    await writeInOrder(
      ['a', 'b', 'c', 'd', 'e'].map((n) => item(n, '1.0.0')),
      {
        write: async () => ({ created: true }),
        failed: () => true,
        progressEvery: 2,
        onProgress: (d, t) => seen.push([d, t]),
      },
    );
    expect(seen).toEqual([
      [0, 5],
      [2, 5],
      [4, 5],
      [5, 5],
    ]);
  });
});
