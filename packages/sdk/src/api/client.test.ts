import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestorError } from '@nestor/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NestorClient } from './client.js';

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

type Handler = (req: Seen, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
const seen: Seen[] = [];

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function problem(res: ServerResponse, status: number, code: string, detail: string, extra: object = {}): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', 'x-catalog-revision': '7' });
  res.end(
    JSON.stringify({
      type: `https://nestor.dev/problems/${code}`,
      title: code,
      status,
      detail,
      code,
      component: 'catalog',
      operation: 'GetComponent',
      details: {},
      errors: [],
      ...extra,
    }),
  );
}

const component = (name: string, version: string, revision = 1) => ({
  name,
  version,
  description: '',
  provider: 'aws',
  category: 'database',
  resource_type: 'aws_db_instance',
  deployment_engines: [],
  dependencies: [],
  required_inputs: [],
  optional_inputs: [],
  outputs: [],
  maturity: 'stable',
  support_level: 'supported',
  resource_limits: {},
  git_repository: null,
  git_commit: null,
  git_path: null,
  labels: {},
  annotations: {},
  digest: `sha256:${'a'.repeat(64)}`,
  created_at: '2024-01-01T00:00:00.000Z',
  updated_at: '2024-01-01T00:00:00.000Z',
  deprecated: null,
  revision,
});

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const text = Buffer.concat(chunks).toString('utf8');
      const entry: Seen = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      seen.push(entry);
      handler(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
  handler = (_req, res) => json(res, 500, { unexpected: true });
});

const last = (): Seen => {
  const entry = seen.at(-1);
  if (!entry) throw new Error('no request reached the server');
  return entry;
};

async function caught(p: Promise<unknown>): Promise<NestorError> {
  try {
    await p;
  } catch (err) {
    if (NestorError.is(err)) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('NestorClient requests', () => {
  it('lists with filters, labels and paging, and reports the catalog revision', async () => {
    handler = (_req, res) =>
      json(res, 200, { items: [component('aws-vpc', '1.0.0')], next_cursor: 'abc' }, { 'x-catalog-revision': '42' });
    const client = new NestorClient({ baseUrl });
    const page = await client.listComponents({
      provider: 'aws',
      maturity: 'stable',
      labels: { team: 'data', tier: 'critical' },
      include_prerelease: true,
      orphaned: true,
      limit: 10,
      cursor: 'xyz',
    });
    expect(page.revision).toBe(42);
    expect(page.next_cursor).toBe('abc');
    expect(page.items.map((c) => c.name)).toEqual(['aws-vpc']);
    const req = last();
    expect(req.path).toBe('/v1/components');
    expect(req.query.get('provider')).toBe('aws');
    expect(req.query.get('maturity')).toBe('stable');
    expect(req.query.getAll('label')).toEqual(['team=data', 'tier=critical']);
    expect(req.query.get('include_prerelease')).toBe('true');
    expect(req.query.get('orphaned')).toBe('true');
    expect(req.query.get('limit')).toBe('10');
    expect(req.query.get('cursor')).toBe('xyz');
  });

  it('walks every page with listAllComponents', async () => {
    handler = (req, res) => {
      const cursor = req.query.get('cursor');
      if (cursor === null) json(res, 200, { items: [component('a', '1.0.0')], next_cursor: 'p2' });
      else if (cursor === 'p2') json(res, 200, { items: [component('b', '1.0.0')], next_cursor: 'p3' });
      else json(res, 200, { items: [component('c', '1.0.0')], next_cursor: null });
    };
    const client = new NestorClient({ baseUrl });
    const names: string[] = [];
    for await (const page of client.listAllComponents({ limit: 1 })) names.push(...page.items.map((c) => c.name));
    expect(names).toEqual(['a', 'b', 'c']);
    expect(seen.map((s) => s.query.get('cursor'))).toEqual([null, 'p2', 'p3']);
    expect(seen.every((s) => s.query.get('limit') === '1')).toBe(true);
  });

  it('searches with q and filters', async () => {
    handler = (_req, res) =>
      json(res, 200, { items: [{ ...component('aws-rds-postgres', '2.3.0'), score: 3.5 }], next_cursor: null });
    const hits = await new NestorClient({ baseUrl }).searchComponents('postgres', { provider: 'aws' });
    expect(hits.items[0]?.score).toBe(3.5);
    expect(last().path).toBe('/v1/components/search');
    expect(last().query.get('q')).toBe('postgres');
    expect(last().query.get('provider')).toBe('aws');
  });

  it('asks for facets and a sort order, and passes total and facets through when the server sends them', async () => {
    handler = (_req, res) =>
      json(res, 200, {
        items: [component('aws-vpc', '1.0.0')],
        next_cursor: null,
        total: 1,
        facets: { provider: [{ value: 'aws', count: 1 }] },
      });
    const client = new NestorClient({ baseUrl });
    const page = await client.searchComponents('vpc', {
      facets: ['provider', 'label'],
      sort: 'updated',
      support_level: 'supported',
    });
    expect(last().query.get('facets')).toBe('provider,label');
    expect(last().query.get('sort')).toBe('updated');
    expect(last().query.get('support_level')).toBe('supported');
    expect(page.total).toBe(1);
    expect(page.facets?.provider).toEqual([{ value: 'aws', count: 1 }]);

    // A server that predates totals and facets: the total is what the page holds, no facets.
    handler = (_req, res) => json(res, 200, { items: [component('aws-vpc', '1.0.0')], next_cursor: null });
    const older = await client.listComponents({ facets: ['provider'] });
    expect(older.total).toBe(1);
    expect('facets' in older).toBe(false);
  });

  it('calls the global fetch unbound, as browsers require (no "Illegal invocation")', async () => {
    handler = (_req, res) => json(res, 200, { items: [], next_cursor: null });
    const real = globalThis.fetch;
    // A browser's fetch throws when called with any `this` but the global object or undefined.
    globalThis.fetch = function (this: unknown, input: Parameters<typeof fetch>[0], init?: RequestInit) {
      if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
      return real(input, init);
    } as typeof fetch;
    try {
      await expect(new NestorClient({ baseUrl }).listComponents()).resolves.toMatchObject({ items: [] });
    } finally {
      globalThis.fetch = real;
    }
  });

  it('encodes path segments so a name can never add a segment or a query', async () => {
    handler = (_req, res) => json(res, 200, component('x', '1.0.0'));
    const client = new NestorClient({ baseUrl });
    await client.getComponent('a/b?c=d');
    expect(last().path).toBe('/v1/components/a%2Fb%3Fc%3Dd');
    expect([...last().query.keys()]).toEqual([]);
    await client.getComponent('k8s-redis', { include_prerelease: true });
    expect(last().path).toBe('/v1/components/k8s-redis');
    expect(last().query.get('include_prerelease')).toBe('true');
  });

  it('keeps a path prefix of the base URL', async () => {
    handler = (_req, res) => json(res, 200, { version: '1.0.0', commit: 'abc', build_date: 'now', node: 'v20' });
    await new NestorClient({ baseUrl: `${baseUrl}/nestor` }).version();
    expect(last().path).toBe('/nestor/version');
  });

  it('sends the bearer token, the user agent and JSON bodies', async () => {
    handler = (req, res) =>
      json(res, 201, { ...component('aws-vpc', '1.0.0'), ...(req.body as object) }, { 'x-catalog-revision': '3' });
    const client = new NestorClient({ baseUrl, token: 's3cret', userAgent: 'ci-bot/1.0' });
    const out = await client.createComponent({
      name: 'aws-vpc',
      version: '1.0.0',
      provider: 'aws',
      category: 'networking',
      resource_type: 'aws_vpc',
    });
    expect(out.created).toBe(true);
    expect(out.revision).toBe(3);
    const req = last();
    expect(req.method).toBe('POST');
    expect(req.headers.authorization).toBe('Bearer s3cret');
    expect(req.headers['user-agent']).toBe('ci-bot/1.0');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toMatchObject({ name: 'aws-vpc', version: '1.0.0' });
  });

  it('reports an identical re-submission as not created and drops null git fields from the body', async () => {
    handler = (_req, res) => json(res, 200, component('aws-vpc', '1.0.0'));
    const spec = { ...component('aws-vpc', '1.0.0') } as Record<string, unknown>;
    for (const k of ['digest', 'created_at', 'updated_at', 'deprecated', 'revision']) delete spec[k];
    const out = await new NestorClient({ baseUrl }).createComponent(spec as never);
    expect(out.created).toBe(false);
    expect(Object.keys(last().body as object)).not.toContain('git_repository');
  });

  it('sends no authorization header without a token', async () => {
    handler = (_req, res) => json(res, 200, { status: 'ok' });
    await new NestorClient({ baseUrl }).health();
    expect(last().headers.authorization).toBeUndefined();
    expect(last().path).toBe('/healthz');
  });

  it('patches, deprecates and un-deprecates', async () => {
    handler = (req, res) => json(res, 200, { ...component('k8s-redis', '1.4.1'), ...(req.body as object) });
    const client = new NestorClient({ baseUrl, token: 't' });
    await client.updateComponent('k8s-redis', '1.4.1', { labels: { team: 'data' } });
    expect(last().method).toBe('PATCH');
    expect(last().path).toBe('/v1/components/k8s-redis/versions/1.4.1');
    expect(last().body).toEqual({ labels: { team: 'data' } });
    await client.deprecate('k8s-redis', '1.4.1', 'use 2.x');
    expect(last().body).toEqual({ deprecated: { reason: 'use 2.x' } });
    await client.undeprecate('k8s-redis', '1.4.1');
    expect(last().body).toEqual({ deprecated: null });
    expect(last().headers['if-match']).toBeUndefined();
  });

  it('sends If-Match on a conditional patch and surfaces a 412 as precondition_failed', async () => {
    handler = (req, res) =>
      req.headers['if-match'] === '"abc.7"'
        ? json(res, 200, component('k8s-redis', '1.4.1'))
        : problem(res, 412, 'precondition_failed', 'changed since it was read');
    const client = new NestorClient({ baseUrl, token: 't' });
    await client.updateComponent('k8s-redis', '1.4.1', { labels: {} }, { ifMatch: '"abc.7"' });
    expect(last().headers['if-match']).toBe('"abc.7"');
    const err = await client
      .updateComponent('k8s-redis', '1.4.1', { labels: {} }, { ifMatch: '"abc.6"' })
      .catch((e: unknown) => e);
    expect(NestorError.is(err) && err.code).toBe('precondition_failed');
  });

  it('resolves ranges, versions, dependencies and dependents', async () => {
    handler = (req, res) => {
      if (req.path.endsWith('/resolve')) json(res, 200, component('aws-vpc', '1.4.0'));
      else if (req.path.endsWith('/versions')) json(res, 200, { name: 'aws-vpc', versions: [] });
      else if (req.path.endsWith('/dependencies'))
        json(res, 200, { items: [{ name: 'aws-vpc', version_range: '^1.0.0', resolved: null }] });
      else json(res, 200, { items: [{ name: 'aws-rds-postgres', version: '2.2.0', version_range: '^1.0.0' }] });
    };
    const client = new NestorClient({ baseUrl });
    expect((await client.resolve('aws-vpc', '>=1.0.0 <2.0.0')).version).toBe('1.4.0');
    expect(last().query.get('range')).toBe('>=1.0.0 <2.0.0');
    expect((await client.getVersions('aws-vpc')).name).toBe('aws-vpc');
    const deps = await client.getDependencies('aws-rds-postgres', '2.2.0');
    expect(last().path).toBe('/v1/components/aws-rds-postgres/versions/2.2.0/dependencies');
    expect(deps).toEqual([{ name: 'aws-vpc', version_range: '^1.0.0', resolved: null }]);
    const dependents = await client.getDependents('aws-vpc');
    expect(last().path).toBe('/v1/components/aws-vpc/dependents');
    expect(dependents[0]?.name).toBe('aws-rds-postgres');
  });

  it('validates one spec and batches, splitting batches above the server limit', async () => {
    handler = (req, res) => {
      const body = req.body as { components?: { name: string }[]; name?: string };
      const result = (name: string) => ({ valid: true, name, version: '1.0.0', errors: [], warnings: [] });
      if (body.components) json(res, 200, { results: body.components.map((c) => result(c.name)) });
      else json(res, 200, result(body.name ?? ''));
    };
    const client = new NestorClient({ baseUrl });
    const spec = (i: number) => ({
      name: `c${i}`,
      version: '1.0.0',
      provider: 'aws',
      category: 'x',
      resource_type: 'y',
    });
    expect((await client.validate(spec(0))).name).toBe('c0');
    const results = await client.validateBatch(Array.from({ length: 501 }, (_, i) => spec(i)));
    expect(results.map((r) => r.name)).toEqual(Array.from({ length: 501 }, (_, i) => `c${i}`));
    expect(seen.slice(1).map((s) => (s.body as { components: unknown[] }).components.length)).toEqual([500, 1]);
  });

  it('handles engines and sources', async () => {
    handler = (req, res) => {
      if (req.method === 'DELETE') {
        res.writeHead(204);
        res.end();
      } else if (req.method === 'POST' && req.path === '/v1/engines')
        json(res, 201, { name: 'terraform', health: 'unknown' });
      else if (req.path === '/v1/engines') json(res, 200, { items: [{ name: 'terraform', health: 'healthy' }] });
      else if (req.path === '/v1/engines/terraform') json(res, 200, { name: 'terraform', history: [] });
      else if (req.path === '/v1/sources') json(res, 200, { items: [{ name: 'platform' }] });
      else if (req.path === '/v1/sources/platform/sync')
        json(res, 202, { status: 'accepted', source: 'platform', coalesced: false });
      else json(res, 200, { name: 'platform' });
    };
    const client = new NestorClient({ baseUrl, token: 'admin' });
    expect((await client.listEngines())[0]?.health).toBe('healthy');
    expect((await client.getEngine('terraform')).history).toEqual([]);
    expect((await client.registerEngine({ name: 'terraform', type: 'terraform', interval: '30s' })).health).toBe(
      'unknown',
    );
    expect(last().body).toEqual({ name: 'terraform', type: 'terraform', interval: '30s' });
    await expect(client.deregisterEngine('terraform')).resolves.toBeUndefined();
    expect(last().method).toBe('DELETE');
    expect((await client.listSources())[0]?.name).toBe('platform');
    expect((await client.getSource('platform')).name).toBe('platform');
    expect((await client.syncSource('platform')).status).toBe('accepted');
    expect(last().method).toBe('POST');
    expect(last().query.has('confirm_removals')).toBe(false);
    await client.syncSource('platform', { confirm_removals: true });
    expect(last().query.get('confirm_removals')).toBe('true');
  });

  it('answers readiness as a value, also when not ready', async () => {
    handler = (_req, res) =>
      json(res, 503, { status: 'not_ready', checks: { store: { status: 'failed', message: 'down' } } });
    const ready = await new NestorClient({ baseUrl }).ready();
    expect(ready.ready).toBe(false);
    expect(ready.checks.store?.status).toBe('failed');
  });
});

describe('NestorClient conditional reads', () => {
  it('returns the version and its ETag, then not-modified for a matching If-None-Match', async () => {
    const etag = '"abc.1"';
    handler = (req, res) => {
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag, 'x-catalog-revision': '9' });
        res.end();
      } else json(res, 200, component('k8s-redis', '1.4.1'), { etag, 'x-catalog-revision': '9' });
    };
    const client = new NestorClient({ baseUrl });
    const first = await client.getComponentVersion('k8s-redis', '1.4.1');
    expect(first.notModified).toBe(false);
    expect(first.component?.version).toBe('1.4.1');
    expect(first.etag).toBe(etag);
    expect(first.revision).toBe(9);
    expect(last().headers['if-none-match']).toBeUndefined();
    const second = await client.getComponentVersion('k8s-redis', '1.4.1', { etag });
    expect(second).toEqual({ notModified: true, component: null, etag, revision: 9 });
    expect(last().headers['if-none-match']).toBe(etag);
  });
});

describe('NestorClient errors', () => {
  it('rebuilds the server error from its problem body', async () => {
    handler = (_req, res) =>
      problem(res, 404, 'component_not_found', 'component nope not found', { details: { component_name: 'nope' } });
    const err = await caught(new NestorClient({ baseUrl }).getComponent('nope'));
    expect(err.code).toBe('component_not_found');
    expect(err.status).toBe(404);
    expect(err.message).toBe('component nope not found');
    expect(err.details.component_name).toBe('nope');
    expect(err.operation).toBe('GetComponent');
  });

  it('carries validation findings and the rest of the result', async () => {
    const issue = { rule: 'semver', code: 'insufficient_bump', field: 'version', message: 'needs a major bump' };
    handler = (_req, res) =>
      problem(res, 422, 'validation_failed', 'validation failed: needs a major bump', {
        errors: [issue],
        warnings: [],
        required_bump: 'major',
        changes: [{ kind: 'input_removed', path: 'required_inputs[0]', bump: 'major', message: 'x' }],
      });
    const err = await caught(
      new NestorClient({ baseUrl, token: 't' }).createComponent({
        name: 'a',
        version: '1.1.0',
        provider: 'aws',
        category: 'x',
        resource_type: 'y',
      }),
    );
    expect(err.code).toBe('validation_failed');
    expect(err.errors).toEqual([issue]);
    expect(err.extensions.required_bump).toBe('major');
  });

  it('falls back to a code by status when the body is not a problem', async () => {
    handler = (_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('go away');
    };
    const err = await caught(new NestorClient({ baseUrl }).listEngines());
    expect(err.code).toBe('unauthorized');
    expect(err.message).toContain('401');
    expect(err.message).toContain('go away');
  });

  it('turns a timeout into a timeout error with its cause', async () => {
    handler = () => {
      // never answers
    };
    const err = await caught(new NestorClient({ baseUrl, timeoutMs: 100 }).health());
    expect(err.code).toBe('timeout');
    expect(err.cause).toBeDefined();
    expect(err.details.timeout_ms).toBe(100);
  });

  it('times out a body that stops half-way', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"items": [');
    };
    const err = await caught(new NestorClient({ baseUrl, timeoutMs: 150 }).listComponents());
    expect(err.code).toBe('timeout');
  });

  it('turns an unreachable server into service_unavailable with its cause', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await caught(new NestorClient({ baseUrl: `http://127.0.0.1:${port}` }).health());
    expect(err.code).toBe('service_unavailable');
    expect(err.cause).toBeInstanceOf(Error);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('rethrows the caller abort reason as is', async () => {
    handler = () => {
      // never answers
    };
    const controller = new AbortController();
    const call = new NestorClient({ baseUrl }).health({ signal: controller.signal });
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 20);
    await expect(call).rejects.toBe(reason);
  });

  it('reports a non-JSON success body', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html></html>');
    };
    const err = await caught(new NestorClient({ baseUrl }).version());
    expect(err.code).toBe('internal_error');
    expect(err.message).toContain('non-JSON');
  });

  it('rejects a base URL that is not a URL', () => {
    expect(() => new NestorClient({ baseUrl: 'not a url' })).toThrow(/not a URL/);
  });
});
