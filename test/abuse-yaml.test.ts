import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CatalogManager } from '../packages/orchestrator/src/catalog/manager.js';
import { LocalChangeFeed } from '../packages/orchestrator/src/events/change-feed.js';
import { silentLogger } from '../packages/orchestrator/src/observability/logging/logger.js';
import type { SourceFileErrorCode } from '../packages/orchestrator/src/sources/file-errors.js';
import { parseComponentFile } from '../packages/orchestrator/src/sources/parser.js';
import { DirectorySourceReader } from '../packages/orchestrator/src/sources/readers.js';
import { SourceSyncer } from '../packages/orchestrator/src/sources/syncer.js';
import { MemoryStore } from '../packages/orchestrator/src/storage/memory/memory-store.js';
import { createValidator } from '../packages/orchestrator/src/validation/validator.js';
import { componentYaml } from './git-helpers.js';

/** Slow enough to notice a stall, fast enough for two shared cores. */
const TIME_BOUND_MS = 3000;

const deep = fc.integer({ min: 65, max: 6000 });

/** Flow collections of random kinds, closed or not, optionally under a key. */
const flowNesting = fc
  .tuple(deep, fc.constantFrom('[', '{a: ', '{? ', '[a, '), fc.boolean(), fc.constantFrom('', 'a: ', '- '))
  .map(([n, open, closed, prefix]) => {
    const close = open.startsWith('[') ? ']' : '}';
    return `${prefix}${open.repeat(n)}${closed ? close.repeat(n) : ''}\n`;
  });

/** Block nesting: compact sequences, explicit keys, or ever deeper indentation. */
const blockNesting = fc.oneof(
  deep.map((n) => `${'- '.repeat(n)}x\n`),
  deep.map((n) => `${'? '.repeat(n)}x\n`),
  fc
    .integer({ min: 65, max: 400 })
    .map((n) => `${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`),
  deep.map((n) => `${'- ['.repeat(n)}\n`),
);

/** Anchors re-used by aliases: expansion grows as width^levels while the text stays small. */
const aliasBomb = fc.tuple(fc.integer({ min: 10, max: 12 }), fc.integer({ min: 6, max: 12 })).map(([width, levels]) => {
  const lines = [`l0: &l0 [${Array(width).fill('x').join(', ')}]`];
  for (let i = 1; i < levels; i++)
    lines.push(
      `l${i}: &l${i} [${Array(width)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
});

const selfAlias = fc.constantFrom('a: &a [*a]\n', 'a: &a {b: *a}\n', '&a [*a, *a]\n');

const manyDocuments = fc
  .tuple(fc.integer({ min: 101, max: 5000 }), fc.constantFrom('a: 1\n', '{}\n', 'x\n', ''))
  .map(([n, body]) => `${body}---\n`.repeat(n));

const manyKeys = fc.integer({ min: 1001, max: 60_000 }).map((n) => {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`${i.toString(36)}: 1`);
  return `${lines.join('\n')}\n`;
});

/** Every structured attack above: each must be refused as too complex. */
const hostile = fc.oneof(flowNesting, blockNesting, aliasBomb, selfAlias, manyDocuments, manyKeys);

/** Noise built from YAML's indicators, and raw bytes. */
const yamlNoise = fc
  .array(
    fc.constantFrom(
      '[',
      ']',
      '{',
      '}',
      ':',
      '-',
      '?',
      '&a',
      '*a',
      '!',
      '|',
      '>',
      "'",
      '"',
      '#',
      ',',
      '\n',
      ' ',
      'x',
      '---\n',
      '%YAML 1.2\n',
    ),
    {
      maxLength: 3000,
    },
  )
  .map((parts) => parts.join(''));
const bytes = fc.uint8Array({ maxLength: 4000 }).map((b) => Buffer.from(b));

/** The codes the parser itself can report (typed: each is a row of the per-file code table). */
const KNOWN_CODES = new Set<string>([
  'invalid_yaml',
  'invalid_request',
  'no_component',
  'file_too_large',
  'yaml_too_complex',
  'binary_file',
  'invalid_encoding',
  'symlink_not_allowed',
  'path_not_allowed',
] satisfies SourceFileErrorCode[]);

function timedParse(content: Buffer) {
  const started = performance.now();
  const out = parseComponentFile({ path: 'fuzz/component.yaml', content, repository: 'fuzz', commit: null });
  return { out, ms: performance.now() - started };
}

describe('hostile YAML through the parser', () => {
  it('nesting is refused from the 65th level, whatever opens it and whatever it sits under', () => {
    // Found by the property below (seed 943632902): 65 unclosed `[` at the top level slipped past
    // the depth bound and came back as dozens of invalid_yaml problems.
    for (const prefix of ['', 'a: ', '- ']) {
      for (const open of ['[', '{a: ', '{? ', '[a, ']) {
        const levels = prefix === '' ? 64 : 63;
        const within = timedParse(Buffer.from(`${prefix}${open.repeat(levels)}\n`)).out;
        expect(within.errors.map((e) => e.code)).not.toContain('yaml_too_complex');
        for (const n of [levels + 1, levels + 2, 66]) {
          const { out } = timedParse(Buffer.from(`${prefix}${open.repeat(n)}\n`));
          expect(out.errors.map((e) => e.code)).toEqual(['yaml_too_complex']);
        }
      }
    }
  });

  it('structured attacks are refused as yaml_too_complex, quickly, with a position', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const { out, ms } = timedParse(Buffer.from(text));
        expect(ms).toBeLessThan(TIME_BOUND_MS);
        expect(out.components).toEqual([]);
        expect(out.errors).toHaveLength(1);
        expect(out.errors[0]?.code).toBe('yaml_too_complex');
        expect(out.errors[0]?.line).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 150 },
    );
  });

  it('noise and random bytes never throw or stall, and every problem has a known code', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          yamlNoise.map((t) => Buffer.from(t)),
          bytes,
        ),
        (content) => {
          const { out, ms } = timedParse(content);
          expect(ms).toBeLessThan(TIME_BOUND_MS);
          expect(out.components.length + out.errors.length).toBeGreaterThan(0);
          for (const e of out.errors) expect(KNOWN_CODES).toContain(e.code);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('hostile YAML through a directory sync', () => {
  it('the good file syncs, every hostile file has a clear code, nothing else is stored, the next sync parses none again', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 4 }), async (texts) => {
        const root = mkdtempSync(join(tmpdir(), 'nestor-abuse-yaml-'));
        const feed = new LocalChangeFeed();
        try {
          writeFileSync(join(root, 'component.yaml'), componentYaml({ name: 'abuse-good' }));
          texts.forEach((text, i) => {
            mkdirSync(join(root, `bad${i}`));
            writeFileSync(join(root, `bad${i}`, 'component.yaml'), text);
          });
          const store = new MemoryStore();
          const validator = createValidator({
            reader: store,
            engines: { listEngines: async () => [], getEngine: async () => null, healthEpoch: () => 0 },
            unhealthyEngine: 'error',
            cacheSize: 0,
          });
          let parses = 0;
          const manager = new CatalogManager({ store, validator, feed, logger: silentLogger });
          const syncer = new SourceSyncer({
            name: 'abuse',
            reader: new DirectorySourceReader({ root, paths: ['**/component.yaml'] }),
            paths: ['**/component.yaml'],
            writer: manager,
            lifecycle: manager,
            maxOrphanRatio: 0.5,
            state: store,
            catalog: store,
            limits: { maxFiles: 20_000, maxBytes: 256 * 1024 * 1024 },
            events: store,
            feed,
            logger: silentLogger,
            parser: {
              parse: (input) => {
                parses++;
                return parseComponentFile(input);
              },
            },
          });
          const first = await syncer.sync();
          expect(first.complete).toBe(true);
          expect(new Set(first.errors.map((e) => e.path))).toEqual(
            new Set(texts.map((_, i) => `bad${i}/component.yaml`)),
          );
          for (const e of first.errors) expect(e.code).toBe('yaml_too_complex');
          expect(await store.listComponentNames()).toEqual(['abuse-good']);
          expect(parses).toBe(texts.length + 1);

          const second = await syncer.sync();
          expect(second.errors).toEqual(first.errors);
          // Only the good file: a folder has no history, so it is read again.
          expect(parses).toBe(texts.length + 2);
        } finally {
          feed.close();
          rmSync(root, { recursive: true, force: true });
        }
      }),
      { numRuns: 15 },
    );
  });
});
