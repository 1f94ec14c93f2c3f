import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { App } from '../packages/orchestrator/src/main.js';
import { AUTH, component, postComponent, testApp, uniqueName } from './helpers.js';

interface Operation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  description?: string;
  responses: Record<string, { content?: Record<string, { schema?: unknown; example?: unknown }> }>;
  requestBody?: { content: Record<string, { example?: unknown }> };
}
type Document = {
  servers?: unknown[];
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, Operation>>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function operations(doc: Document): Array<{ method: string; path: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ method, path, op })),
  );
}

describe('OpenAPI document', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  let doc: Document;
  beforeAll(async () => {
    ({ app, cleanup } = await testApp());
    doc = (await app.server.inject({ method: 'GET', url: '/openapi.json' })).json() as Document;
  });
  afterAll(async () => cleanup());

  it('names every operation uniquely and states its security in the document and the description', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(20);
    const missing = ops.filter(({ op }) => !op.operationId).map(({ method, path }) => `${method} ${path}`);
    expect(missing).toEqual([]);
    const ids = ops.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { op } of ops) {
      expect(op.security).toBeDefined();
      const scope = /Security: (?:bearer token with the `(\w+)` scope|none)/.exec(op.description ?? '');
      expect(scope, op.operationId).not.toBeNull();
      expect(op.security).toEqual(scope?.[1] ? [{ bearer: [] }] : []);
    }
    const byId = new Map(ops.map(({ op }) => [op.operationId, op]));
    expect(byId.get('getLiveness')?.security).toEqual([]);
    expect(byId.get('receiveWebhook')?.security).toEqual([]);
    expect(byId.get('listComponents')?.description).toContain('`read` scope');
    expect(byId.get('createComponent')?.description).toContain('`write` scope');
    expect(byId.get('registerEngine')?.description).toContain('`admin` scope');
  });

  it('documents the statuses each route answers with, errors as problem+json', () => {
    const byId = new Map(operations(doc).map(({ op }) => [op.operationId, op]));
    const statuses = (id: string) => Object.keys(byId.get(id)?.responses ?? {});
    expect(statuses('createComponent')).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '409']));
    expect(statuses('getComponentVersion')).toEqual(expect.arrayContaining(['200', '304', '404']));
    expect(statuses('deregisterEngine')).toEqual(expect.arrayContaining(['204', '404']));
    expect(statuses('syncSource')).toContain('202');
    expect(statuses('receiveWebhook')).toEqual(expect.arrayContaining(['200', '202', '401']));
    expect(statuses('updateComponent')).toContain('412');
    const conflict = byId.get('createComponent')?.responses['409'] as { description?: string } | undefined;
    expect(conflict?.description).toContain('`version_conflict`');
    expect(conflict?.description).not.toContain('engine_conflict');
    expect(Object.keys(byId.get('streamEvents')?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
    for (const { op } of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400 && op.operationId !== 'getReadiness') {
          expect(Object.keys(response.content ?? {}), `${op.operationId} ${status}`).toEqual([
            'application/problem+json',
          ]);
        }
      }
    }
    expect(doc.servers?.length).toBeGreaterThan(0);
    for (const tag of doc.tags ?? []) expect(tag.description).toBeTruthy();
  });

  it('takes its component example from examples/', () => {
    const example = parseYaml(readFileSync(join(__dirname, '../examples/k8s/k8s-namespace/component.yaml'), 'utf8'));
    const create = operations(doc).find(({ op }) => op.operationId === 'createComponent')?.op;
    expect(create?.requestBody?.content['application/json']?.example).toEqual(example);
    expect(create?.responses['201']?.content?.['application/json']?.example).toMatchObject(example);
  });

  it('documents the body of registerEngine with the schema its decoder checks', () => {
    const register = operations(doc).find(({ op }) => op.operationId === 'registerEngine')?.op;
    const schema = (register?.requestBody?.content['application/json'] as { schema?: Record<string, unknown> })?.schema;
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false, required: ['name'] });
    expect(Object.keys((schema?.properties ?? {}) as object)).toEqual(
      expect.arrayContaining(['name', 'type', 'endpoint', 'health_path', 'interval', 'timeout', 'labels']),
    );
  });

  it('sends every field of a stored version: response schemas document, they do not filter', async () => {
    const name = uniqueName('openapi');
    const created = await postComponent(
      app,
      component({
        name,
        dependencies: [],
        labels: { team: 'platform', tier: '1' },
        annotations: { 'docs.example.com/runbook': 'https://runbook' },
      }),
    );
    expect(created.statusCode).toBe(201);
    const stored = created.json();
    expect(stored.digest).toMatch(/^sha256:/);
    for (const url of [
      `/v1/components/${name}`,
      `/v1/components/${name}/versions/1.0.0`,
      `/v1/components/${name}/resolve?range=^1`,
    ]) {
      const res = await app.server.inject({ method: 'GET', url, headers: AUTH.read });
      expect(res.json(), url).toEqual(stored);
    }
    const list = await app.server.inject({ method: 'GET', url: `/v1/components?label=tier=1`, headers: AUTH.read });
    expect(list.json().items.find((c: { name: string }) => c.name === name)).toEqual(stored);
    const versions = await app.server.inject({
      method: 'GET',
      url: `/v1/components/${name}/versions`,
      headers: AUTH.read,
    });
    expect(versions.json().versions[0]).toEqual({
      version: '1.0.0',
      digest: stored.digest,
      created_at: stored.created_at,
      deprecated: null,
      maturity: stored.maturity,
    });
  });

  it('generates types a typed client compiles against', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestor-openapi-client-'));
    try {
      // Round trip through JSON: openapi-typescript reads the document as a client would download it.
      const source = astToString(await openapiTS(JSON.parse(JSON.stringify(doc))));
      writeFileSync(join(dir, 'schema.ts'), source);
      writeFileSync(join(dir, 'client.ts'), TYPED_CLIENT);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: 'ES2022',
            module: 'ESNext',
            moduleResolution: 'bundler',
            lib: ['ES2022', 'DOM'],
            types: [],
            skipLibCheck: true,
          },
          files: ['schema.ts', 'client.ts'],
        }),
      );
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      const run = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
      expect(run.stdout + run.stderr).toBe('');
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** Uses operation names, success and problem bodies; `@ts-expect-error` lines prove the types are not `any`. */
const TYPED_CLIENT = `
import type { operations } from './schema';

type Json<K extends keyof operations, S extends keyof operations[K]['responses']> =
  operations[K]['responses'][S] extends { content: { 'application/json': infer B } } ? B : never;
type Problem = operations['createComponent']['responses'][409]['content']['application/problem+json'];

export async function getComponentVersion(
  base: string,
  path: operations['getComponentVersion']['parameters']['path'],
): Promise<Json<'getComponentVersion', 200>> {
  const res = await fetch(\`\${base}/v1/components/\${path.name}/versions/\${path.version}\`);
  if (!res.ok) throw new Error(((await res.json()) as Problem).code);
  return (await res.json()) as Json<'getComponentVersion', 200>;
}

export async function publish(
  base: string,
  body: operations['createComponent']['requestBody'] extends { content: { 'application/json': infer B } } ? B : never,
): Promise<string> {
  const res = await fetch(\`\${base}/v1/components\`, { method: 'POST', body: JSON.stringify(body) });
  const created = (await res.json()) as Json<'createComponent', 201>;
  const revision: number = created.revision;
  return \`\${created.name}@\${created.version} \${created.digest} r\${revision}\`;
}

const known: Problem['code'] = 'version_conflict';
// @ts-expect-error codes are a closed set
const unknown: Problem['code'] = 'no_such_code';
// @ts-expect-error a path needs its version
const partial: operations['getComponentVersion']['parameters']['path'] = { name: 'x' };
export const used = [known, unknown, partial];
`;
