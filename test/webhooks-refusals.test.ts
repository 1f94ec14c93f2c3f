import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { AUTH, component, postComponent, testConfig, uniqueName } from './helpers.js';
import { waitFor } from './webhook-receiver.js';

/** Names a processor might own, answered with internal addresses by the test's resolver. */
const RESOLVES: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34'],
  'rebind.example.com': ['93.184.216.34', '10.0.0.7'],
  'metadata.example.com': ['169.254.169.254'],
  'inside.example.com': ['192.168.1.20'],
  'v6-local.example.com': ['fe80::1'],
  'allowed.internal': ['10.1.2.3'],
  'flip.example.com': ['93.184.216.34'],
};

describe('outgoing webhooks: refused subscriptions (SSRF guard and bad input)', () => {
  let app: App;
  let dir: string;
  beforeAll(async () => {
    const made = testConfig((c) => {
      c.webhooks.allow_hosts = ['allowed.internal', '[::1]'];
    });
    dir = made.dir;
    app = await buildApp(made.config, {
      webhookLookup: async (host) =>
        (RESOLVES[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    });
  });
  afterAll(async () => {
    await app.close();
    const { rmSync } = await import('node:fs');
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (payload: unknown) =>
    app.server.inject({ method: 'POST', url: '/v1/subscriptions', headers: AUTH.admin, payload: payload as object });

  it.each([
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:7f00:1]/', 'loopback'],
    ['http://[::1]:8080/', null], // allow-listed as written
    ['http://[0:0:0:0:0:0:0:1]/', 'loopback'], // the same address, written otherwise: not allow-listed
    ['http://localhost:9000/hook', 'loopback'],
    ['http://LOCALHOST./', 'loopback'],
    ['http://169.254.169.254/latest/meta-data', 'metadata'],
    ['http://metadata.google.internal/', 'metadata'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://10.0.0.1/', 'private'],
    ['https://172.16.5.4/', 'private'],
    ['http://192.168.0.10/', 'private'],
    ['http://[fc00::1]/', 'private'],
    ['http://169.254.10.10/', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://100.64.0.1/', 'CGNAT'],
    ['http://inside.example.com/', 'resolves to 192.168.1.20, a private'],
    ['http://metadata.example.com/', 'resolves to 169.254.169.254, a metadata'],
    ['http://rebind.example.com/', 'resolves to 10.0.0.7, a private'],
    ['http://v6-local.example.com/', 'resolves to fe80::1, a link-local'],
  ])('%s → %s', async (url, reason) => {
    const res = await post({ url });
    if (reason === null) {
      expect(res.statusCode, res.body).toBe(201);
      await app.server.inject({ method: 'DELETE', url: `/v1/subscriptions/${res.json().id}`, headers: AUTH.admin });
      return;
    }
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_request', details: { field: 'url' } });
    expect(res.json().detail).toContain(reason);
    expect(res.json().detail).toContain('webhooks.allow_hosts');
  });

  it.each([
    [{ url: 'ftp://hooks.example.com/x' }, 'http or https'],
    [{ url: 'file:///etc/passwd' }, 'http or https'],
    [{ url: 'javascript:alert(1)' }, 'http or https'],
    [{ url: 'http://user:pw@hooks.example.com/' }, 'credentials'],
    [{ url: 'http://user@hooks.example.com/' }, 'credentials'],
    [{ url: 'http://hooks.example.com/#frag' }, 'fragment'],
    [{ url: 'http://hooks.example.com/a b' }, 'spaces'],
    [{ url: 'not a url' }, 'url'],
    [{ url: `http://hooks.example.com/${'a'.repeat(3000)}` }, 'url'],
    [{}, 'url'],
    [{ url: 'http://hooks.example.com/', types: ['component.exploded'] }, 'types'],
    [{ url: 'http://hooks.example.com/', types: 'component.created' }, 'types'],
    [{ url: 'http://hooks.example.com/', filter: { owner: 'x' } }, 'filter'],
    [{ url: 'http://hooks.example.com/', filter: { name: 3 } }, 'filter'],
    [{ url: 'http://hooks.example.com/', secret: 'mine' }, 'secret'],
  ])('%j → 400', async (body, mention) => {
    const res = await post(body);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('invalid_request');
    expect(JSON.stringify(res.json())).toContain(mention);
  });

  it('stores nothing on refusal, records the refusal in the audit log, and accepts a public or allow-listed host', async () => {
    const list = async () =>
      (await app.server.inject({ method: 'GET', url: '/v1/subscriptions', headers: AUTH.admin })).json().items;
    expect(await list()).toEqual([]);
    const audit = await app.server.inject({
      method: 'GET',
      url: '/v1/audit?action=subscription.create',
      headers: AUTH.admin,
    });
    const outcomes = (audit.json() as { items: { outcome: string }[] }).items.map((e) => e.outcome);
    expect(outcomes.length).toBeGreaterThan(10);
    expect(new Set(outcomes)).toEqual(new Set(['invalid', 'ok']));
    for (const url of ['https://hooks.example.com/nestor', 'http://allowed.internal:8080/hook']) {
      expect((await post({ url })).statusCode).toBe(201);
    }
    expect((await list()).map((s: { url: string }) => s.url).sort()).toEqual([
      'http://allowed.internal:8080/hook',
      'https://hooks.example.com/nestor',
    ]);
    expect(
      (
        await app.server.inject({
          method: 'POST',
          url: '/v1/subscriptions',
          headers: AUTH.write,
          payload: { url: 'https://hooks.example.com/' },
        })
      ).statusCode,
    ).toBe(403);
  });

  it('judges the host again before every delivery: a name that now resolves inside is not called', async () => {
    await app.start();
    const res = await post({ url: 'http://flip.example.com/hook' });
    expect(res.statusCode).toBe(201);
    const id = res.json().id as string;
    RESOLVES['flip.example.com'] = ['127.0.0.1'];
    expect((await postComponent(app, component({ name: uniqueName('flip') }))).statusCode).toBe(201);
    const log = async () =>
      (
        await app.server.inject({ method: 'GET', url: `/v1/subscriptions/${id}/deliveries`, headers: AUTH.admin })
      ).json().items as { status: string; response_status: number | null }[];
    await waitFor(async () => (await log()).length > 0);
    expect((await log())[0]).toMatchObject({ status: 'pending', response_status: null });
    // Refused by the policy, not merely unreachable.
    const metrics = await app.server.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/nestor_webhook_delivery_failures_total\{reason="address_refused"\} [1-9]/);
    expect(metrics.body).toMatch(/nestor_webhook_lag\{subscription="[0-9a-f]{16}"\} 1/);
  });
});
