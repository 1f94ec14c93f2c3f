import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentJsonSchema, computeDigest } from '@nestor/sdk';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { decodeComponent } from '../packages/orchestrator/src/catalog/component-decoder.js';
import type { App } from '../packages/orchestrator/src/main.js';
import { parseComponentFile } from '../packages/orchestrator/src/sources/parser.js';
import { component, testApp } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const committed = JSON.parse(readFileSync(join(root, 'schemas/component.schema.json'), 'utf8')) as object;
const validateSchema = new Ajv2020({ allErrors: true, strict: true }).compile(committed);

function exampleFiles(dir = join(root, 'examples')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return exampleFiles(full);
    return e.name.endsWith('component.yaml') ? [full] : [];
  });
}

function decoderAccepts(value: unknown): boolean {
  try {
    decodeComponent(value, { component: 'test', operation: 'Decode' });
    return true;
  } catch {
    return false;
  }
}

describe('component JSON Schema', () => {
  it('is committed exactly as generated from the TypeBox definitions (npm run schemas)', () => {
    expect(committed).toEqual(componentJsonSchema());
  });

  const files = exampleFiles();
  it('covers the examples', () => expect(files.length).toBeGreaterThan(10));

  it.each(files.map((f) => [relative(root, f), f]))('%s carries the $schema line and is accepted by both', (_, f) => {
    const text = readFileSync(f, 'utf8');
    const firstLine = text.split('\n')[0];
    const schemaPath = relative(join(f, '..'), join(root, 'schemas/component.schema.json'));
    expect(firstLine).toBe(`# yaml-language-server: $schema=${schemaPath}`);
    const docs = parseAllDocuments(text);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) {
      const value = doc.toJS();
      expect(validateSchema(value), JSON.stringify(validateSchema.errors)).toBe(true);
      expect(decoderAccepts(value)).toBe(true);
    }
    const parsed = parseComponentFile({
      path: 'component.yaml',
      content: Buffer.from(text),
      repository: '',
      commit: null,
    });
    expect(parsed.errors).toEqual([]);
    expect(parsed.components.length).toBe(docs.length);
    // The comment line is not content: the digests are those of the file without it.
    const bare = text.slice(text.indexOf('\n') + 1);
    const without = parseComponentFile({
      path: 'component.yaml',
      content: Buffer.from(bare),
      repository: '',
      commit: null,
    });
    expect(parsed.components.map((c) => computeDigest(c.spec))).toEqual(
      without.components.map((c) => computeDigest(c.spec)),
    );
  });

  it('rejects a misspelt key in both the schema and the decoder', () => {
    const typo = { ...component({ name: 'typo' }), requred_inputs: [] };
    expect(validateSchema(typo)).toBe(false);
    expect(validateSchema.errors?.some((e) => e.params && 'additionalProperty' in e.params)).toBe(true);
    expect(decoderAccepts(typo)).toBe(false);
    const nested = { ...component({ name: 'typo' }), outputs: [{ name: 'x', type: 'string', sensitve: true }] };
    expect(validateSchema(nested)).toBe(false);
    expect(decoderAccepts(nested)).toBe(false);
  });

  it('agrees with the decoder on generated documents, typos and wrong types included', () => {
    const input = fc.record(
      {
        name: fc.string(),
        type: fc.oneof(fc.string(), fc.integer()),
        description: fc.string(),
        default: fc.jsonValue(),
        sensitive: fc.oneof(fc.boolean(), fc.constant('yes')),
        sensitve: fc.boolean(),
      },
      { requiredKeys: ['name'] },
    );
    const doc = fc.record(
      {
        name: fc.string(),
        version: fc.oneof(fc.constant('1.0.0'), fc.integer()),
        description: fc.string(),
        provider: fc.string(),
        category: fc.string(),
        resource_type: fc.string(),
        deployment_engines: fc.array(fc.oneof(fc.string(), fc.integer())),
        dependencies: fc.array(
          fc.record({ name: fc.string(), version_range: fc.string() }, { requiredKeys: ['name'] }),
        ),
        required_inputs: fc.array(input, { maxLength: 3 }),
        optional_inputs: fc.array(input, { maxLength: 3 }),
        outputs: fc.array(fc.record({ name: fc.string(), type: fc.string() }, { requiredKeys: ['name'] })),
        maturity: fc.constantFrom('alpha', 'beta', 'stable', 'gamma'),
        support_level: fc.constantFrom('community', 'supported', 'none'),
        resource_limits: fc.dictionary(fc.constantFrom('cpu', 'memory', 'gpu'), fc.string()),
        labels: fc.dictionary(fc.constantFrom('team', 'cost-center', 'nestor.dev/x', '-bad', ''), fc.string()),
        annotations: fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string(), fc.integer())),
        digest: fc.string(),
        requred_inputs: fc.array(fc.string()),
      },
      { requiredKeys: ['name', 'provider'] },
    );
    fc.assert(
      fc.property(doc, (value) => {
        expect(validateSchema(value)).toBe(decoderAccepts(value));
      }),
      { numRuns: 500 },
    );
  });
});

describe('GET /v1/schemas/component.json', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, cleanup } = await testApp());
  });
  afterAll(() => cleanup());

  it('serves the committed schema anonymously', async () => {
    const res = await app.server.inject({ method: 'GET', url: '/v1/schemas/component.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/schema\+json/);
    expect(res.json()).toEqual(committed);
  });
});
