import type { SrvRecord } from 'node:dns';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestorError } from '@nestor/sdk';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/config.js';
import { LocalChangeFeed } from '../events/change-feed.js';
import { EndpointPolicy } from '../infra/endpoint-policy.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { StaticDiscovery } from './discovery.js';
import { DiscoveryRunner } from './discovery-runner.js';
import { DnsSrvDiscovery } from './dns-discovery.js';
import type { KubernetesApi, Service } from './kubernetes-client.js';
import { KubernetesDiscovery, kubernetesDiscoveryOptions } from './kubernetes-discovery.js';
import { EngineRegistry } from './registry.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const srv = (name: string, port: number, priority = 10, weight = 5): SrvRecord => ({ name, port, priority, weight });
const dnsError = (code: string) => Object.assign(new Error(`querySrv ${code}`), { code });

describe('DnsSrvDiscovery', () => {
  it('turns SRV records into engines named and typed after their targets', async () => {
    const asked: string[] = [];
    const d = new DnsSrvDiscovery({
      domain: 'engines.example.com.',
      resolve: async (name) => {
        asked.push(name);
        return [
          srv('terraform-eu.engines.example.com.', 9000),
          srv('Pulumi-1.engines.example.com', 8443),
          srv('terraform-eu.backup.example.com', 9001, 20),
          srv('under_score.example.com', 80),
          srv('bad-port.example.com', 0),
        ];
      },
    });
    const found = await d.discover();
    expect(asked).toEqual(['_nestor-engine._tcp.engines.example.com']);
    expect(found.map((e) => [e.name, e.type, e.endpoint])).toEqual([
      ['terraform-eu', 'terraform', 'http://terraform-eu.engines.example.com:9000'],
      ['pulumi-1', 'pulumi', 'http://pulumi-1.engines.example.com:8443'],
    ]);
    expect(found[0]).toMatchObject({ health_path: null, interval_ms: 10_000, failure_threshold: 3 });
  });

  it('reads NXDOMAIN and NODATA as "no engines"', async () => {
    for (const code of ['ENOTFOUND', 'ENODATA']) {
      const d = new DnsSrvDiscovery({ domain: 'x.test', resolve: async () => Promise.reject(dnsError(code)) });
      expect(await d.discover()).toEqual([]);
    }
  });

  it('fails with service_unavailable when DNS itself fails, and with timeout when it hangs', async () => {
    const broken = new DnsSrvDiscovery({
      domain: 'x.test',
      resolve: async () => Promise.reject(dnsError('ESERVFAIL')),
    });
    const err = await broken.discover().catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'service_unavailable')).toBe(true);
    expect((err as Error).message).toContain('ESERVFAIL');

    const hanging = new DnsSrvDiscovery({ domain: 'x.test', timeoutMs: 100, resolve: () => new Promise(() => {}) });
    const started = Date.now();
    expect(NestorError.hasCode(await hanging.discover().catch((e: unknown) => e), 'timeout')).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

interface FakeApi {
  url: string;
  requests: { url: string; authorization: string | undefined }[];
  services: unknown[];
  status: number;
  raw: string | null;
}

/** A tiny Kubernetes API: answers the Services list, two items per page, like a paginating server. */
async function startFakeKubernetes(token: string): Promise<FakeApi> {
  const api: FakeApi = { url: '', requests: [], services: [], status: 200, raw: null };
  const server: Server = createServer((req: IncomingMessage, res) => {
    api.requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"kind":"Status","code":401}');
      return;
    }
    if (api.status !== 200 || api.raw !== null) {
      res.writeHead(api.status).end(api.raw ?? '{"kind":"Status"}');
      return;
    }
    const match = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?services$/.exec(url.pathname);
    if (!match || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    const selector = url.searchParams.get('labelSelector') ?? '';
    const selected = api.services.filter((s) => {
      const meta = (s as { metadata: { namespace: string; labels?: Record<string, string> } }).metadata;
      return (!match[1] || meta.namespace === match[1]) && selector in (meta.labels ?? {});
    });
    const start = Number(url.searchParams.get('continue') ?? '0');
    const page = selected.slice(start, start + 2);
    const next = start + 2 < selected.length ? String(start + 2) : '';
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ kind: 'ServiceList', apiVersion: 'v1', metadata: { continue: next }, items: page }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return api;
}

function service(
  name: string,
  namespace: string,
  opts: { label?: string | null; ports?: { name?: string; port: number }[]; annotations?: Record<string, string> } = {},
) {
  const labels: Record<string, string> = { app: name };
  if (opts.label !== null) labels['nestor.dev/engine'] = opts.label ?? 'terraform';
  return {
    metadata: { name, namespace, labels, annotations: opts.annotations ?? {} },
    spec: { ports: opts.ports ?? [{ name: 'http', port: 8080 }] },
  };
}

describe('KubernetesDiscovery over any KubernetesApi', () => {
  it('asks for the namespace and label once and maps each Service, skipping those it cannot name or reach', async () => {
    const asked: [string | null, string][] = [];
    const api: KubernetesApi = {
      async listServices(namespace, label) {
        asked.push([namespace, label]);
        const services: Service[] = [
          {
            metadata: { name: 'tf-a', namespace: 'ops', labels: { 'x/engine': 'terraform' } },
            spec: { ports: [{ port: 80 }] },
          },
          { metadata: { name: 'Bad_Name!', namespace: 'ops' }, spec: { ports: [{ port: 80 }] } },
          { metadata: { name: 'noport', namespace: 'ops' }, spec: { ports: [] } },
          { metadata: { name: 'tf-a', namespace: 'other' }, spec: { ports: [{ port: 81 }] } },
        ];
        return services;
      },
    };
    const d = new KubernetesDiscovery({
      apiUrl: 'http://unused',
      token: null,
      ca: null,
      namespace: 'ops',
      label: 'x/engine',
      api,
    });
    const found = await d.discover();
    expect(asked).toEqual([['ops', 'x/engine']]);
    expect(found.map((e) => [e.name, e.type, e.endpoint])).toEqual([['tf-a', 'terraform', 'http://tf-a.ops.svc:80']]);
  });
});

describe('KubernetesDiscovery against a fake API server', () => {
  const token = 'sa-token-123';

  it('lists labelled Services of a namespace, page by page, with the bearer token', async () => {
    const api = await startFakeKubernetes(token);
    api.services = [
      service('tf-runner', 'infra'),
      service('pulumi-op', 'infra', { label: 'pulumi', ports: [{ name: 'metrics', port: 9090 }, { port: 8081 }] }),
      service('xp', 'infra', {
        label: 'true',
        annotations: {
          'nestor.dev/engine-name': 'crossplane-main',
          'nestor.dev/endpoint': 'http://127.0.0.1:7777',
          'nestor.dev/health-path': '/ready',
        },
      }),
      service('secure', 'infra', { label: 'custom', ports: [{ name: 'https', port: 443 }] }),
      service('unlabelled', 'infra', { label: null }),
      service('elsewhere', 'other'),
      service('noports', 'infra', { ports: [] }),
    ];
    const d = new KubernetesDiscovery({
      apiUrl: api.url,
      token,
      ca: null,
      namespace: 'infra',
      label: 'nestor.dev/engine',
    });
    const found = await d.discover();
    expect(found.map((e) => [e.name, e.type, e.endpoint, e.health_path])).toEqual([
      ['tf-runner', 'terraform', 'http://tf-runner.infra.svc:8080', null],
      ['pulumi-op', 'pulumi', 'http://pulumi-op.infra.svc:9090', null],
      ['crossplane-main', 'crossplane', 'http://127.0.0.1:7777', '/ready'],
      ['secure', 'custom', 'https://secure.infra.svc:443', null],
    ]);
    expect(found[0]!.labels).toMatchObject({ app: 'tf-runner', 'nestor.dev/namespace': 'infra' });
    expect(api.requests.length).toBe(3);
    for (const r of api.requests) {
      expect(r.url).toMatch(/^\/api\/v1\/namespaces\/infra\/services\?labelSelector=nestor.dev%2Fengine&limit=500/);
      expect(r.authorization).toBe(`Bearer ${token}`);
    }
  });

  it('lists every namespace when none is set', async () => {
    const api = await startFakeKubernetes(token);
    api.services = [service('a', 'one'), service('b', 'two')];
    const d = new KubernetesDiscovery({
      apiUrl: `${api.url}/`,
      token,
      ca: null,
      namespace: null,
      label: 'nestor.dev/engine',
    });
    expect((await d.discover()).map((e) => e.endpoint)).toEqual(['http://a.one.svc:8080', 'http://b.two.svc:8080']);
    expect(api.requests[0]!.url.startsWith('/api/v1/services?')).toBe(true);
  });

  it('fails clearly on a refused token, an error status, garbage or silence', async () => {
    const api = await startFakeKubernetes(token);
    const d = (t: string, timeoutMs = 2_000) =>
      new KubernetesDiscovery({ apiUrl: api.url, token: t, ca: null, namespace: 'x', label: 'l', timeoutMs });
    const refused = await d('wrong')
      .discover()
      .catch((e: unknown) => e);
    expect(NestorError.hasCode(refused, 'service_unavailable')).toBe(true);
    expect((refused as Error).message).toContain('HTTP 401');

    const failure = async () =>
      (
        (await d(token)
          .discover()
          .catch((e: unknown) => e)) as Error
      ).message;
    api.raw = 'this is not json';
    expect(await failure()).toContain('invalid JSON');
    api.raw = '{"items": "nope"}';
    expect(await failure()).toContain('not a ServiceList');

    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      silent.closeAllConnections();
      silent.close();
    });
    const hung = new KubernetesDiscovery({
      apiUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      token,
      ca: null,
      namespace: null,
      label: 'l',
      timeoutMs: 100,
    });
    const started = Date.now();
    expect(NestorError.hasCode(await hung.discover().catch((e: unknown) => e), 'timeout')).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('takes its connection from config, the in-cluster environment and the service-account files', () => {
    const k8s = { ...defaultConfig().discovery.kubernetes, enabled: true };
    const files: Record<string, string> = {
      '/sa/token': 'tok\n',
      '/sa/ca.crt': '-----BEGIN CERTIFICATE-----',
      '/sa/namespace': 'infra\n',
    };
    const read = (p: string) => files[p] ?? null;
    expect(
      kubernetesDiscoveryOptions(
        k8s,
        { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '6443' },
        read,
        '/sa',
      ),
    ).toEqual({
      apiUrl: 'https://10.0.0.1:6443',
      token: 'tok',
      ca: '-----BEGIN CERTIFICATE-----',
      namespace: 'infra',
      label: 'nestor.dev/engine',
    });
    expect(kubernetesDiscoveryOptions({ ...k8s, api_url: 'http://api:8001', namespace: 'ns' }, {}, () => null)).toEqual(
      {
        apiUrl: 'http://api:8001',
        token: null,
        ca: null,
        namespace: 'ns',
        label: 'nestor.dev/engine',
      },
    );
    expect(kubernetesDiscoveryOptions(k8s, {}, () => null)).toBeNull();
    expect(kubernetesDiscoveryOptions({ ...k8s, enabled: false }, { KUBERNETES_SERVICE_HOST: 'h' })).toBeNull();
  });
});

describe('DiscoveryRunner', () => {
  it('adds discovered engines, marks vanished ones, and keeps everything when a source fails', async () => {
    const store = new MemoryStore();
    const registry = new EngineRegistry({ store, events: store, feed: new LocalChangeFeed() });
    await registry.load([]);
    let answer: () => Promise<SrvRecord[]> = async () => [srv('tf-a.x', 9000), srv('tf-b.x', 9000)];
    const runner = new DiscoveryRunner({
      target: registry,
      intervalMs: 60_000,
      discoveries: [new DnsSrvDiscovery({ domain: 'x', resolve: () => answer() })],
    });
    cleanups.push(() => runner.stop());

    const [first] = await runner.runOnce();
    expect(first).toMatchObject({ origin: 'dns', ok: true, found: 2, error: null });
    expect((await registry.listEngines()).map((e) => e.name)).toEqual(['tf-a', 'tf-b']);

    answer = async () => Promise.reject(dnsError('ETIMEOUT'));
    const [failed] = await runner.runOnce();
    expect(failed).toMatchObject({ ok: false, outcome: null });
    expect((await registry.listEngines()).every((e) => !e.missing)).toBe(true);

    answer = async () => [srv('tf-a.x', 9000)];
    await runner.runOnce();
    expect(await registry.getEngine('tf-b')).toMatchObject({ missing: true, health: 'unhealthy' });

    answer = async () => Promise.reject(dnsError('ENOTFOUND'));
    await runner.runOnce();
    expect((await registry.listEngines()).map((e) => [e.name, e.missing])).toEqual([
      ['tf-a', true],
      ['tf-b', true],
    ]);
  });

  it('starts with a round at once and skips rounds while another replica leads', async () => {
    const store = new MemoryStore();
    const registry = new EngineRegistry({ store, events: store, feed: new LocalChangeFeed() });
    await registry.load([]);
    let calls = 0;
    let leader = false;
    const runner = new DiscoveryRunner({
      target: registry,
      intervalMs: 20,
      leadership: { isLeader: async () => leader, release: async () => {} },
      discoveries: [
        new DnsSrvDiscovery({
          domain: 'x',
          resolve: async () => {
            calls += 1;
            return [srv('e.x', 1)];
          },
        }),
      ],
    });
    cleanups.push(() => runner.stop());
    runner.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(0);
    leader = true;
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBeGreaterThanOrEqual(2);
    await runner.stop();
    const after = calls;
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toBe(after);
  });

  it('gives config engines to the registry through StaticDiscovery', async () => {
    const store = new MemoryStore();
    const registry = new EngineRegistry({ store, events: store, feed: new LocalChangeFeed() });
    const engines = defaultConfig().engines;
    engines.push({
      name: 'tf',
      type: 'terraform',
      endpoint: null,
      health_path: null,
      interval_ms: 1,
      timeout_ms: 1,
      failure_threshold: 1,
      success_threshold: 1,
      labels: {},
    });
    const d = new StaticDiscovery(engines);
    await registry.reconcile(d.origin, await d.discover());
    expect(await registry.getEngine('tf')).toMatchObject({ origin: 'config', health: 'unknown' });
  });
});

describe('DiscoveryRunner with an endpoint policy', () => {
  it('skips engines whose annotation points inside, with a log, and keeps Services at their own address', async () => {
    const api = await startFakeKubernetes('t');
    api.services = [
      service('tf-runner', 'infra'),
      service('meta', 'infra', { annotations: { 'nestor.dev/endpoint': 'http://169.254.169.254/latest' } }),
      service('loop', 'infra', { annotations: { 'nestor.dev/endpoint': 'http://0177.0.0.1:8080' } }),
      // A Service cannot pass its annotation off as its own address by setting the label itself.
      {
        ...service('sneaky', 'infra', { annotations: { 'nestor.dev/endpoint': 'http://[::1]:8080' } }),
        metadata: {
          name: 'sneaky',
          namespace: 'infra',
          labels: { 'nestor.dev/engine': 'custom', 'nestor.dev/endpoint-source': 'service' },
          annotations: { 'nestor.dev/endpoint': 'http://[::1]:8080' },
        },
      },
      service('public', 'infra', { annotations: { 'nestor.dev/endpoint': 'http://93.184.216.34:8080' } }),
    ];
    const store = new MemoryStore();
    const registry = new EngineRegistry({ store, events: store, feed: new LocalChangeFeed() });
    const warnings: { msg: string; engine?: string; reason?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
    const runner = new DiscoveryRunner({
      target: registry,
      discoveries: [
        new KubernetesDiscovery({ apiUrl: api.url, token: 't', ca: null, namespace: null, label: 'nestor.dev/engine' }),
      ],
      intervalMs: 60_000,
      policy: new EndpointPolicy({ allowHosts: [], lookup: async () => [{ address: '93.184.216.34', family: 4 }] }),
      logger,
    });
    const [report] = await runner.runOnce();
    expect(report?.ok).toBe(true);
    expect((await registry.listEngines()).map((e) => e.name)).toEqual(['public', 'tf-runner']);
    const skipped = warnings.filter((w) => w.msg === 'discovered engine skipped');
    expect(skipped.map((w) => w.engine).sort()).toEqual(['loop', 'meta', 'sneaky']);
    expect(skipped.find((w) => w.engine === 'meta')?.reason).toContain('metadata');
  });
});
