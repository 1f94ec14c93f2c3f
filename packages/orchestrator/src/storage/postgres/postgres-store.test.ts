import { type CatalogEvent, NestorError } from '@nestor/sdk';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { auditId } from '../audit-records.js';
import { makeComponent } from '../testing.js';
import { migrations } from './migrations/index.js';
import { PostgresStore } from './postgres-store.js';
import { dropSchema, randomSchema, TEST_POSTGRES_URL } from './testing.js';

/** What a fresh schema's migrate reports: every migration, in order. */
const ALL_APPLIED = migrations.map((m) => `${String(m.id).padStart(3, '0')}-${m.name}`);

const schemas: string[] = [];
const stores: PostgresStore[] = [];
const clients: pg.Client[] = [];

async function open(schema = randomSchema(), extra: Partial<Parameters<typeof PostgresStore.open>[0]> = {}) {
  if (!schemas.includes(schema)) schemas.push(schema);
  const store = await PostgresStore.open({ url: TEST_POSTGRES_URL, schema, ...extra });
  stores.push(store);
  return store;
}

async function admin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  clients.push(client);
  return client;
}

async function failure(promise: Promise<unknown>): Promise<NestorError> {
  try {
    await promise;
  } catch (err) {
    expect(NestorError.is(err), String(err)).toBe(true);
    return err as NestorError;
  }
  throw new Error('expected a failure');
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const c of clients.splice(0)) await c.end().catch(() => {});
  for (const s of schemas.splice(0)) await dropSchema(s);
});

describe('PostgresStore event ordering', () => {
  it('readers never see a later event before an earlier one, with many writers on several connections', async () => {
    const writer = await open(randomSchema(), { poolSize: 8 });
    const reader = await open(writer.schema, { poolSize: 2 });
    const writers = 8;
    const perWriter = 25;
    const total = writers * perWriter;
    let done = false;
    const seen: number[] = [];
    const gaps: string[] = [];
    const poll = (async () => {
      let position = 0;
      while (!done || position < total) {
        const batch: CatalogEvent[] = await reader.readEvents(position, 1000);
        for (const e of batch) {
          // Every sequence is used (nothing is compacted), so anything but position + 1 is an event
          // visible before an earlier one: a gap that a later commit would fill.
          if (e.id !== position + 1) gaps.push(`saw ${e.id} after ${position}`);
          position = e.id;
          seen.push(e.id);
        }
      }
    })();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          if (i % 3 === 0)
            await writer.appendEvent({
              type: 'source.synced',
              subject: { name: `w${w}`, version: null, digest: null },
              data: { i },
            });
          else await writer.createComponent(makeComponent());
        }
      }),
    );
    done = true;
    await poll;
    expect(gaps).toEqual([]);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(await reader.headSequence()).toBe(total);
  }, 60_000);
});

describe('PostgresStore migrations', () => {
  it('creates the schema once; a second run applies nothing', async () => {
    const store = await open(randomSchema(), { migrate: false }).catch((err: unknown) => err);
    expect(NestorError.is(store) && store.message).toMatch(/run `nestor migrate`/);
    const schema = schemas[0] as string;
    const first = await open(schema);
    expect((await first.migrate()).applied).toEqual(ALL_APPLIED);
    expect((await first.migrate()).applied).toEqual([]);
    const again = await open(schema, { migrate: false });
    expect(await again.headSequence()).toBe(0);
  });

  it('concurrent migrations from two processes: one applies, the other waits and finds nothing to do', async () => {
    const schema = randomSchema();
    schemas.push(schema);
    const a = new PostgresStore({ url: TEST_POSTGRES_URL, schema });
    const b = new PostgresStore({ url: TEST_POSTGRES_URL, schema });
    stores.push(a, b);
    const outcomes = await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
    expect(outcomes.map((o) => o.applied.length).sort()).toEqual([0, 0, migrations.length]);
    expect(outcomes.every((o) => o.version === (migrations.at(-1) as { id: number }).id)).toBe(true);
    await a.createComponent(makeComponent());
    expect(await b.headSequence()).toBe(1);
  });

  it('an older program refuses a newer schema with a clear message', async () => {
    const store = await open();
    const client = await admin();
    await client.query(`INSERT INTO ${store.schema}.schema_migrations VALUES (99, 'from-the-future', 'now')`);
    for (const migrate of [true, false]) {
      const err = await failure(open(store.schema, { migrate }));
      expect(err.code).toBe('storage_failure');
      expect(err.message).toContain(
        `version 99) is newer than this program knows (${(migrations.at(-1) as { id: number }).id}); upgrade nestor`,
      );
    }
  });
});

describe('PostgresStore faults', () => {
  it('database down at start: retries with backoff, then a clear storage_failure', async () => {
    const retries: number[] = [];
    const err = await failure(
      PostgresStore.open({
        url: 'postgres://postgres@127.0.0.1:1/test',
        schema: randomSchema(),
        connectTimeoutMs: 800,
        onRetry: (_err, _attempt, delay) => retries.push(delay),
      }),
    );
    expect(err.code).toBe('storage_failure');
    expect(err.message).toMatch(/PostgreSQL is unreachable after \d+ attempts/);
    expect(retries.slice(0, 2)).toEqual([250, 500]);
  });

  it('a connection killed mid-write leaves no partial write, no lost or reused sequence, and a 503 error', async () => {
    const store = await open(randomSchema(), { poolSize: 2 });
    await store.createComponent(makeComponent());
    const holder = await admin();
    // Hold the head row so the store's write waits inside its transaction, then kill its backend.
    await holder.query('BEGIN');
    await holder.query(`SELECT seq FROM ${store.schema}.event_head FOR UPDATE`);
    const victim = makeComponent({ dependencies: [{ name: 'net', version_range: '^1.0.0' }] });
    // Observed at once: the rejection can arrive while the test is still busy with the holder.
    const settled = store.createComponent(victim).then(
      () => null,
      (err: unknown) => err,
    );
    let pid: number | undefined;
    for (let i = 0; i < 1000 && pid === undefined; i++) {
      const { rows } = await holder.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        [`nestor:${store.schema}`],
      );
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(pid).toBeDefined();
    await holder.query('SELECT pg_terminate_backend($1)', [pid]);
    await holder.query('ROLLBACK');
    const err = (await settled) as NestorError;
    expect(NestorError.is(err), String(err)).toBe(true);
    expect(err.code).toBe('storage_failure');
    expect(err.status).toBe(503);
    expect(await store.getComponent(victim.name, victim.version)).toBeNull();
    expect(await store.getDependents('net')).toEqual([]);
    expect(await store.headSequence()).toBe(1);
    const next = await store.createComponent(victim);
    expect(next.event?.id).toBe(2);
    expect((await store.readEvents(0, 10)).map((e) => e.id)).toEqual([1, 2]);
  });

  it('reads survive the server dropping idle connections', async () => {
    const store = await open(randomSchema(), { poolSize: 3 });
    await store.createComponent(makeComponent());
    await Promise.all([store.headSequence(), store.readEvents(0, 1), store.listEngines()]);
    const client = await admin();
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [`nestor:${store.schema}`],
    );
    expect(rows[0]?.n).toBeGreaterThan(0);
    expect(await store.headSequence()).toBe(1);
    await store.ping();
  });

  it('plans a point read once, whatever the batch, on connections of its own', async () => {
    const store = await open();
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = makeComponent();
      names.push(c.name);
      await store.createComponent(c);
    }
    // One read at a time: each batch holds one key, and one connection serves them all.
    for (let i = 0; i < 12; i++) {
      const name = names[i % names.length] as string;
      expect((await store.getComponentJson(name, '1.0.0'))?.json).toContain(`"name":"${name}"`);
      expect((await store.getLatestComponent(name))?.name).toBe(name);
    }
    expect(await Promise.all(names.map((n) => store.getComponent(n, '1.0.0').then((c) => c?.name)))).toEqual(names);
    // Reaches into the store's own pool: the statements' plan counts live in that session.
    const pointPool = (store as unknown as { pointPool: pg.Pool }).pointPool;
    const { rows } = await pointPool.query<{ name: string; generic_plans: number; custom_plans: number }>(
      'SELECT name, generic_plans::int, custom_plans::int FROM pg_prepared_statements ORDER BY name',
    );
    expect(rows.map((r) => r.name)).toEqual(['nestor_get_exact', 'nestor_get_latest_default']);
    for (const row of rows) {
      expect(row.custom_plans).toBe(0);
      expect(row.generic_plans).toBeGreaterThanOrEqual(12);
    }
  });

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => new PostgresStore({ url: TEST_POSTGRES_URL, schema: 'x; DROP TABLE y' })).toThrow(/schema/);
  });
});

describe('PostgresStore group commit', () => {
  it('writes a failed create of a batch out of it: the others commit with consecutive events and their audit entries', async () => {
    const schema = randomSchema();
    const store = await open(schema);
    const target = makeComponent();
    await store.createComponent(target);
    // A failure injected after the version row was inserted and the latest flag moved.
    const a = await admin();
    await a.query(`
      CREATE FUNCTION ${schema}.boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure'; END $$;
      CREATE TRIGGER boom BEFORE INSERT ON ${schema}.events FOR EACH ROW
      WHEN (NEW.subject_name = '${target.name}') EXECUTE FUNCTION ${schema}.boom();`);
    const audit = (subject: string) => ({
      id: auditId(new Date()),
      time: new Date().toISOString(),
      actor: 'token:ci',
      action: 'component.create',
      subject,
      request_id: null,
      ip: null,
      outcome: 'ok' as const,
      details: {},
    });
    const head = await store.headSequence();
    const before = makeComponent();
    const failing = makeComponent({ name: target.name, version: '2.0.0' });
    const after = makeComponent();
    const results = await Promise.allSettled(
      [before, failing, after].map((c) => store.createComponent(c, { audit: audit(`${c.name}@${c.version}`) })),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as NestorError).code).toBe('storage_failure');
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.event?.id : null))).toEqual([
      head + 1,
      null,
      head + 2,
    ]);
    expect((await store.readEvents(head, 10)).map((e) => e.subject.name)).toEqual([before.name, after.name]);
    expect(await store.getComponent(target.name, '2.0.0')).toBeNull();
    expect((await store.getLatestComponent(target.name))?.version).toBe('1.0.0');
    const subjects = (await store.listAudit({ limit: 10 })).items.map((e) => e.subject);
    expect(subjects.sort()).toEqual([`${after.name}@1.0.0`, `${before.name}@1.0.0`].sort());
  });

  it('sends four statements for a lone create: the head lock with BEGIN, one read, one write, COMMIT', async () => {
    const store = await open();
    await store.createComponent(makeComponent());
    const original = pg.Client.prototype.query;
    let statements = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      statements++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      const outcome = await store.createComponent(
        makeComponent({ dependencies: [{ name: 'base', version_range: '^1.0.0' }] }),
      );
      expect(outcome.event).not.toBeNull();
    } finally {
      pg.Client.prototype.query = original;
    }
    expect(statements).toBe(4);
  });
});

describe('PostgresStore read ahead', () => {
  /** The read-ahead steps sent while `during` runs: each statement's parameters. */
  async function steps(during: () => Promise<unknown>): Promise<unknown[][]> {
    const original = pg.Client.prototype.query;
    const sent: unknown[][] = [];
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (typeof args[0] === 'string' && args[0].includes('sum(pg_column_size(definition))'))
        sent.push(args[1] as unknown[]);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      await during();
    } finally {
      pg.Client.prototype.query = original;
    }
    return sent;
  }

  it('reads every row in steps of rowids past its threshold, and nothing below it', async () => {
    const schema = randomSchema();
    const store = await open(schema, { readAheadRows: 3 });
    for (const name of ['zeta', 'alpha', 'mid']) await store.createComponent(makeComponent({ name }));
    expect(await steps(() => store.readAheadListed().done.then((done) => expect(done).toBe(true)))).toEqual([
      [0, 4096],
    ]);
    const few = await open(schema, { readAheadRows: 4 });
    expect(await steps(() => few.readAheadListed().done.then((done) => expect(done).toBe(false)))).toEqual([]);
  });

  it('sends no step once stopped, and fails quietly once closed', async () => {
    const store = await open(randomSchema(), { readAheadRows: 1 });
    await store.createComponent(makeComponent());
    const sent = await steps(async () => {
      const read = store.readAheadListed();
      read.stop();
      expect(await read.done).toBe(false);
    });
    expect(sent).toEqual([]);
    await store.close();
    expect(await store.readAheadListed().done).toBe(false);
  });
});

describe('PostgresStore point reads', () => {
  it('answers each of many concurrent exact and latest reads with its own row, sharing statements', async () => {
    const store = await open(randomSchema(), { poolSize: 2 });
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      const c = makeComponent();
      names.push(c.name);
      await store.createComponent(c);
      if (i % 3 === 0) await store.createComponent({ ...makeComponent({ name: c.name, version: '1.1.0-rc.1' }) });
    }
    const reads = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const name = names[i % names.length] as string;
        switch (i % 5) {
          case 0:
            return ['exact', name, (await store.getComponentJson(name, '1.0.0'))?.json] as const;
          case 1:
            return ['latest', name, (await store.getLatestComponent(name))?.version] as const;
          case 2:
            return [
              'any',
              name,
              (await store.getLatestComponentJson(name, { includePrerelease: true }))?.json,
            ] as const;
          case 3:
            return ['missing', name, await store.getComponent(name, '9.9.9')] as const;
          default:
            return ['unknown', name, await store.getLatestComponent(`${name}-none`)] as const;
        }
      }),
    );
    for (const [kind, name, got] of reads) {
      const index = names.indexOf(name);
      if (kind === 'exact') expect(JSON.parse(got as string)).toMatchObject({ name, version: '1.0.0' });
      if (kind === 'latest') expect(got).toBe('1.0.0');
      if (kind === 'any') {
        expect(JSON.parse(got as string)).toMatchObject({ name, version: index % 3 === 0 ? '1.1.0-rc.1' : '1.0.0' });
      }
      if (kind === 'missing' || kind === 'unknown') expect(got).toBeNull();
    }
  });
});
