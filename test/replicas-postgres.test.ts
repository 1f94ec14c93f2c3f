import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../packages/orchestrator/src/storage/postgres/postgres-store.js';
import { dropSchema, randomSchema, TEST_POSTGRES_URL } from '../packages/orchestrator/src/storage/postgres/testing.js';
import { component } from './helpers.js';
import { ADMIN_TOKEN, ensureBuilt, openStream, type Replica, startReplica, waitFor } from './replicas-helpers.js';

const run = randomUUID().slice(0, 8);
const schema = randomSchema();
let direct: PostgresStore;
let a: Replica;
let b: Replica;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
// No Redis: the two replicas only share the database.
const env = { NESTOR_STORE_TYPE: 'postgres', NESTOR_STORE_URL: TEST_POSTGRES_URL, NESTOR_STORE_SCHEMA: schema };

beforeAll(async () => {
  ensureBuilt();
  direct = await PostgresStore.open({ url: TEST_POSTGRES_URL, schema });
  [a, b] = await Promise.all([startReplica('pg-a', env), startReplica('pg-b', env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await direct?.close();
  await dropSchema(schema);
});

function post(r: Replica, body: unknown): Promise<Response> {
  return fetch(`${r.base}/v1/components`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
}

async function json<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

describe('two replicas sharing one PostgreSQL database (LISTEN/NOTIFY, no Redis)', () => {
  it('both are ready on the store alone', async () => {
    for (const r of [a, b]) {
      const { status, body } = await json<{ checks: Record<string, { status: string }> }>(`${r.base}/readyz`);
      expect(status).toBe(200);
      expect(body.checks['store']?.status).toBe('ok');
      expect(body.checks['redis']).toBeUndefined();
    }
  });

  it('a write on A is on B within 2 s: exact, latest, list, search, and the SSE event with A’s revision', async () => {
    expect((await post(a, component({ name: `pgwarm-${run}` }))).status).toBe(201);
    const head = await direct.headSequence();
    const onB = await openStream(b.base, head);
    const name = `pgrepl-${run}`;
    // B has read (and cached) the name before it exists.
    expect((await fetch(`${b.base}/v1/components/${name}`)).status).toBe(404);
    const res = await post(a, component({ name, labels: { team: `t${run}` } }));
    expect(res.status).toBe(201);
    const committed = Date.now();
    const revision = Number(res.headers.get('x-catalog-revision'));
    expect(revision).toBe(head + 1);
    await waitFor(() => onB.events.some((e) => e.id === revision), 2000, 'the event on B');
    expect(onB.events.find((e) => e.id === revision)?.type).toBe('component.created');
    await waitFor(
      async () => (await fetch(`${b.base}/v1/components/${name}`)).status === 200,
      2000,
      'the latest version on B',
    );
    expect(Date.now() - committed).toBeLessThan(2000);
    expect((await fetch(`${b.base}/v1/components/${name}/versions/1.0.0`)).status).toBe(200);
    const list = await json<{ items: { name: string }[] }>(`${b.base}/v1/components?label=team:t${run}`);
    const listAll = await json<{ items: { name: string }[] }>(`${b.base}/v1/components?limit=500`);
    expect(listAll.body.items.map((c) => c.name)).toContain(name);
    expect(list.status).toBeLessThan(500);
    const search = await json<{ items: { name: string }[] }>(`${b.base}/v1/components/search?q=${name}`);
    expect(search.body.items[0]?.name).toBe(name);
    onB.close();
  });

  it('a change on A reaches B’s cache', async () => {
    const name = `pgcache-${run}`;
    expect((await post(a, component({ name }))).status).toBe(201);
    const url = `${b.base}/v1/components/${name}/versions/1.0.0`;
    for (let i = 0; i < 3; i++) expect((await fetch(url)).status).toBe(200);
    const patched = await fetch(`${a.base}/v1/components/${name}/versions/1.0.0`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ deprecated: { reason: 'replaced' } }),
    });
    expect(patched.status).toBe(200);
    await waitFor(
      async () => ((await (await fetch(url)).json()) as { deprecated: unknown }).deprecated !== null,
      2000,
      'deprecation visible on B',
    );
  });

  it('concurrent creates of one version on A and B: one 201, one 409', async () => {
    for (let i = 0; i < 5; i++) {
      const name = `pgrace-${run}-${i}`;
      const answers = await Promise.all([
        post(a, component({ name, description: 'from A' })),
        post(b, component({ name, description: 'from B' })),
      ]);
      const bodies = await Promise.all(answers.map((r) => r.text()));
      expect(answers.map((r) => r.status).sort(), bodies.join('\n')).toEqual([201, 409]);
    }
  });

  it('interleaved writes on both: strictly increasing ids without duplicates or gaps on both streams', async () => {
    const head = await direct.headSequence();
    const onA = await openStream(a.base, head);
    const onB = await openStream(b.base, head);
    const n = 30;
    const statuses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        post(i % 2 ? a : b, component({ name: `pgmix-${run}-${i}` })).then((r) => r.status),
      ),
    );
    expect(statuses.every((s) => s === 201)).toBe(true);
    const expected = Array.from({ length: n }, (_, i) => head + 1 + i);
    await waitFor(() => onA.events.length >= n && onB.events.length >= n, 5000, 'every event on both streams');
    expect(onA.events.map((e) => e.id)).toEqual(expected);
    expect(onB.events.map((e) => e.id)).toEqual(expected);
    onA.close();
    onB.close();
  });

  it('kill -9 of A loses no acknowledged write', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `pgkill-${run}-${i}`);
    const acknowledged: string[] = [];
    const inflight = names.map((name) =>
      post(a, component({ name })).then(
        (r) => {
          if (r.status === 201) acknowledged.push(name);
          return r.status;
        },
        () => 0,
      ),
    );
    await new Promise((r) => setTimeout(r, 150));
    a.child.kill('SIGKILL');
    const statuses = await Promise.all(inflight);
    expect(statuses.every((s) => s === 201 || s === 0)).toBe(true);
    const events = await direct.readEvents(0, 100_000);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    for (const name of names) {
      const stored = await direct.getComponent(name, '1.0.0');
      const created = events.filter((e) => e.type === 'component.created' && e.subject.name === name).length;
      expect(created).toBe(stored ? 1 : 0);
      if (acknowledged.includes(name)) expect(stored).not.toBeNull();
      const onB = await fetch(`${b.base}/v1/components/${name}/versions/1.0.0`);
      expect(onB.status).toBe(stored ? 200 : 404);
    }
  });
});
