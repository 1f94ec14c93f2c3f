import { rmSync } from 'node:fs';
import type { CatalogEvent, CreatedSubscription, DeliveryInfo, SubscriptionInfo } from '@nestor/sdk';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, buildApp, type Config } from '../packages/orchestrator/src/main.js';
import { AUTH, component, postComponent, testConfig, uniqueName } from './helpers.js';
import { startReceiver, waitFor } from './webhook-receiver.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function app(mutate: (c: Config) => void, overrides: Parameters<typeof buildApp>[1] = {}, dir?: string) {
  const made = testConfig((c) => {
    c.webhooks.allow_hosts = ['127.0.0.1'];
    mutate(c);
  });
  if (dir) {
    made.config.data_dir = dir;
    made.config.store.path = `${dir}/nestor.db`;
  }
  const a = await buildApp(made.config, overrides);
  await a.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await a.close();
  };
  cleanups.push(close);
  if (!dir) cleanups.push(() => rmSync(made.dir, { recursive: true, force: true }));
  return { app: a, dir: dir ?? made.dir, close };
}

async function subscribe(a: App, body: object): Promise<CreatedSubscription> {
  const res = await a.server.inject({ method: 'POST', url: '/v1/subscriptions', headers: AUTH.admin, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as CreatedSubscription;
}

async function deliveries(a: App, id: string): Promise<DeliveryInfo[]> {
  const res = await a.server.inject({ method: 'GET', url: `/v1/subscriptions/${id}/deliveries`, headers: AUTH.admin });
  expect(res.statusCode).toBe(200);
  return (res.json() as { items: DeliveryInfo[] }).items;
}

async function publish(a: App, provider = 'aws'): Promise<number> {
  const res = await postComponent(a, component({ name: uniqueName('hook'), provider }));
  expect(res.statusCode, res.body).toBe(201);
  return Number(res.headers['x-catalog-revision']);
}

describe('outgoing webhooks: delivery', () => {
  it('POSTs matching events signed per Standard Webhooks; the delivery log, get and delete follow', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const { app: a } = await app(() => {});
    const sub = await subscribe(a, { url: receiver.url, types: ['component.created'], filter: { provider: 'aws' } });
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(sub).toMatchObject({ url: receiver.url, types: ['component.created'], state: 'active' });
    expect(sub.filter).toEqual({ name: null, provider: 'aws', category: null });

    await publish(a, 'gcp'); // filtered out
    const wanted = await publish(a, 'aws');
    await waitFor(() => receiver.received.length >= 1);
    const [got] = receiver.received;
    const headers = got?.headers as Record<string, string>;
    // The receiver's check, with the library a processor would use.
    const event = new Webhook(sub.secret).verify(got?.body ?? '', headers) as CatalogEvent;
    expect(event.id).toBe(wanted);
    expect(event.type).toBe('component.created');
    expect(headers['webhook-id']).toBe(String(wanted));
    expect(() =>
      new Webhook(`whsec_${Buffer.from('another secret').toString('base64')}`).verify(got?.body ?? '', headers),
    ).toThrow();
    await waitFor(async () => (await deliveries(a, sub.id)).length === 1);
    expect(await deliveries(a, sub.id)).toEqual([
      { event_id: wanted, attempt: 1, status: 'delivered', response_status: 204, time: expect.any(String) },
    ]);

    const listed = await a.server.inject({ method: 'GET', url: '/v1/subscriptions', headers: AUTH.admin });
    const items = (listed.json() as { items: SubscriptionInfo[] }).items;
    expect(items).toHaveLength(1);
    expect(items[0]).not.toHaveProperty('secret');
    const one = await a.server.inject({ method: 'GET', url: `/v1/subscriptions/${sub.id}`, headers: AUTH.admin });
    expect(one.json()).toEqual(items[0]);
    expect((await a.server.inject({ method: 'GET', url: '/v1/subscriptions', headers: AUTH.write })).statusCode).toBe(
      403,
    );

    const del = await a.server.inject({ method: 'DELETE', url: `/v1/subscriptions/${sub.id}`, headers: AUTH.admin });
    expect(del.statusCode).toBe(204);
    for (const url of [`/v1/subscriptions/${sub.id}`, `/v1/subscriptions/${sub.id}/deliveries`]) {
      const gone = await a.server.inject({ method: 'GET', url, headers: AUTH.admin });
      expect(gone.statusCode).toBe(404);
      expect(gone.json().code).toBe('subscription_not_found');
    }
    const again = await a.server.inject({ method: 'DELETE', url: `/v1/subscriptions/${sub.id}`, headers: AUTH.admin });
    expect(again.json().code).toBe('subscription_not_found');
    const audit = await a.server.inject({ method: 'GET', url: `/v1/audit?subject=${sub.id}`, headers: AUTH.admin });
    expect(
      (audit.json() as { items: { action: string; outcome: string }[] }).items.map((e) => [e.action, e.outcome]),
    ).toEqual([
      ['subscription.delete', 'invalid'],
      ['subscription.delete', 'ok'],
      ['subscription.create', 'ok'],
    ]);
  });

  it('delivers in order, at least once, across a restart from the persisted position (SQLite)', async () => {
    const receiver = await startReceiver(() => 503);
    cleanups.push(() => receiver.close());
    const first = await app((c) => {
      c.store.type = 'sqlite';
    });
    const sub = await subscribe(first.app, { url: receiver.url });
    const a = await publish(first.app);
    const b = await publish(first.app);
    await waitFor(() => receiver.received.length >= 1);
    await first.close();

    receiver.setAnswer(() => 204);
    const second = await app(
      (c) => {
        c.store.type = 'sqlite';
      },
      {},
      first.dir,
    );
    const c = await publish(second.app);
    await waitFor(() => receiver.received.filter((r) => r.status === 204).length >= 3);
    const delivered = receiver.received.filter((r) => r.status === 204).map((r) => Number(r.headers['webhook-id']));
    expect(delivered).toEqual([a, b, c]);
    // Every request, failed ones included, came in sequence order: a retry never overtakes.
    const all = receiver.received.map((r) => Number(r.headers['webhook-id']));
    expect([...all].sort((x, y) => x - y)).toEqual(all);
    expect((await deliveries(second.app, sub.id)).map((d) => [d.event_id, d.status])).toEqual([
      [c, 'delivered'],
      [b, 'delivered'],
      [a, 'delivered'],
    ]);
  });

  it('retries with backoff (first within 5 s, doubling to 10 min, jittered), later events waiting', async () => {
    let now = Date.parse('2026-06-01T00:00:00.000Z');
    const sleeps: number[] = [];
    let failures = 3;
    const receiver = await startReceiver(() => (failures-- > 0 ? 500 : 204));
    cleanups.push(() => receiver.close());
    const { app: a } = await app(() => {}, {
      clock: { now: () => new Date(now) },
      webhookTimer: {
        sleep: async (ms) => {
          sleeps.push(ms);
          now += ms;
          await new Promise((r) => setImmediate(r));
        },
      },
    });
    const sub = await subscribe(a, { url: receiver.url });
    const first = await publish(a);
    const second = await publish(a);
    await waitFor(() => receiver.received.filter((r) => r.status === 204).length >= 2);
    expect(receiver.received.map((r) => [Number(r.headers['webhook-id']), r.status])).toEqual([
      [first, 500],
      [first, 500],
      [first, 500],
      [first, 204],
      [second, 204],
    ]);
    expect(sleeps).toHaveLength(3);
    const [s1, s2, s3] = sleeps as [number, number, number];
    expect(s1).toBeGreaterThanOrEqual(2_500);
    expect(s1).toBeLessThanOrEqual(5_000);
    expect(s2).toBeGreaterThanOrEqual(5_000);
    expect(s2).toBeLessThanOrEqual(10_000);
    expect(s3).toBeGreaterThanOrEqual(10_000);
    expect(s3).toBeLessThanOrEqual(20_000);
    await waitFor(async () => (await deliveries(a, sub.id)).length === 2);
    expect((await deliveries(a, sub.id)).map((d) => [d.event_id, d.attempt, d.status])).toEqual([
      [second, 1, 'delivered'],
      [first, 4, 'delivered'],
    ]);
  });

  it('disables a subscription failing for 24 h, with an event and an audit entry; later events are not sent', async () => {
    let now = Date.parse('2026-06-01T00:00:00.000Z');
    const sleeps: number[] = [];
    const receiver = await startReceiver(() => 500);
    cleanups.push(() => receiver.close());
    const { app: a } = await app(() => {}, {
      clock: { now: () => new Date(now) },
      webhookTimer: {
        sleep: async (ms) => {
          sleeps.push(ms);
          now += ms;
          await new Promise((r) => setImmediate(r));
        },
      },
    });
    const sub = await subscribe(a, { url: receiver.url, types: ['component.created'] });
    const start = now;
    const first = await publish(a);
    await publish(a);
    await waitFor(async () => {
      const res = await a.server.inject({ method: 'GET', url: `/v1/subscriptions/${sub.id}`, headers: AUTH.admin });
      return (res.json() as SubscriptionInfo).state === 'disabled';
    }, 60_000);
    const info = (
      await a.server.inject({ method: 'GET', url: `/v1/subscriptions/${sub.id}`, headers: AUTH.admin })
    ).json() as SubscriptionInfo;
    expect(info.disabled_reason).toMatch(
      new RegExp(`event ${first} could not be delivered for 24 h \\(last attempt: HTTP 500\\)`),
    );
    expect(now - start).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(600_000);
    expect(receiver.received.every((r) => Number(r.headers['webhook-id']) === first)).toBe(true);
    const [last] = await deliveries(a, sub.id);
    expect(last).toMatchObject({ event_id: first, status: 'failed', response_status: 500 });
    expect(last?.attempt).toBe(receiver.received.length);
    const events = await a.store.readEvents(0, 1000);
    expect(events.filter((e) => e.type === 'subscription.disabled').map((e) => e.subject.name)).toEqual([sub.id]);
    const audit = await a.server.inject({
      method: 'GET',
      url: '/v1/audit?action=subscription.disable',
      headers: AUTH.admin,
    });
    expect((audit.json() as { items: { actor: string; subject: string }[] }).items).toMatchObject([
      { actor: 'system:webhooks', subject: sub.id },
    ]);
  }, 90_000);

  it('two replicas on one SQLite file deliver each event once per subscription (one holds the lease)', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const one = await app((c) => {
      c.store.type = 'sqlite';
    });
    const two = await app(
      (c) => {
        c.store.type = 'sqlite';
      },
      {},
      one.dir,
    );
    await subscribe(one.app, { url: `${receiver.url}?s=1` });
    await subscribe(two.app, { url: `${receiver.url}?s=2` });
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push(await publish(i % 2 === 0 ? one.app : two.app));
    // Both replicas' refresh (5 s) has found both subscriptions by then.
    await waitFor(() => receiver.received.length >= 12, 20_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(receiver.received).toHaveLength(12);
    for (const s of ['/hook?s=1', '/hook?s=2']) {
      const got = receiver.received.filter((r) => r.path === s).map((r) => Number(r.headers['webhook-id']));
      expect(got).toEqual(ids);
    }
  }, 40_000);
});
