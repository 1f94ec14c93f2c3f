import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type ComponentSpec, computeDigest, NestorError } from '@nestor/sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_LOCAL_WAIT_MS, sharedDynamoDBLocal } from '../../../../../test/dynamodb-local.js';
import { DynamoStore } from './dynamo-store.js';
import { componentPk, HEAD_SK, versionSk } from './table.js';

let dynamo: Awaited<ReturnType<typeof sharedDynamoDBLocal>>;

beforeAll(async () => {
  dynamo = await sharedDynamoDBLocal();
}, DYNAMODB_LOCAL_WAIT_MS + 10_000);

async function freshStore(table = `t-${randomUUID()}`): Promise<DynamoStore> {
  const store = new DynamoStore({
    table,
    endpoint: dynamo.endpoint,
    region: dynamo.region,
    credentials: dynamo.credentials,
  });
  await store.migrate();
  return store;
}

function spec(name: string, version: string, extra: Partial<ComponentSpec> = {}) {
  const s: ComponentSpec = {
    name,
    version,
    description: `${name} component`,
    provider: 'aws',
    category: 'database',
    resource_type: 'rds',
    deployment_engines: [],
    dependencies: [],
    required_inputs: [],
    optional_inputs: [],
    outputs: [],
    maturity: 'stable',
    support_level: 'community',
    resource_limits: {},
    git_repository: null,
    git_commit: null,
    git_path: null,
    labels: {},
    annotations: {},
    ...extra,
  };
  return { ...s, digest: computeDigest(s) };
}

describe('DynamoStore (DynamoDB Local)', () => {
  it('migrate is idempotent', async () => {
    const store = await freshStore();
    expect(await store.migrate()).toEqual({ created: false, addedIndexes: [] });
    await store.close();
  });

  it('refuses a changeset over the 100-item transaction limit with changeset_too_large, writing nothing', async () => {
    const store = await freshStore();
    // Per new name: its event, its version and its head item; plus the counter, the record.
    const fits = Array.from({ length: 32 }, (_, i) => spec(`fit-${i}`, '1.0.0'));
    const write = (members: typeof fits) => ({ id: randomUUID(), actor: 'token:ci', message: null, members });
    const ok = await store.createChangeset(write(fits));
    expect(ok.events).toHaveLength(32);
    const head = await store.headSequence();
    const over = Array.from({ length: 33 }, (_, i) => spec(`over-${i}`, '1.0.0'));
    const refused = await store.createChangeset(write(over)).catch((err: unknown) => err);
    expect(NestorError.is(refused) && refused.code).toBe('changeset_too_large');
    expect((refused as NestorError).details).toMatchObject({ items: 1 + 33 * 3 + 1, limit: 100, created: 33 });
    expect(await store.headSequence()).toBe(head);
    expect(await store.getComponentVersions('over-0')).toEqual([]);
    // Dependency edges count too.
    const deps = Array.from({ length: 10 }, (_, i) => ({ name: `fit-${i}`, version_range: '^1.0.0' }));
    const heavy = Array.from({ length: 8 }, (_, i) => spec(`heavy-${i}`, '1.0.0', { dependencies: deps }));
    const tooHeavy = await store.createChangeset(write(heavy)).catch((err: unknown) => err);
    expect((tooHeavy as NestorError).details).toMatchObject({ items: 1 + 8 * 13 + 1 });
    await store.close();
  });

  it('orders versions by semver and keeps latest pointers', async () => {
    const store = await freshStore();
    for (const v of ['1.9.0', '1.10.0', '2.0.0-rc.1', '1.10.0-beta.2', '1.10.0-beta.10'])
      await store.createComponent(spec('pg', v));
    expect((await store.getComponentVersions('pg')).map((c) => c.version)).toEqual([
      '2.0.0-rc.1',
      '1.10.0',
      '1.10.0-beta.10',
      '1.10.0-beta.2',
      '1.9.0',
    ]);
    expect((await store.getLatestComponent('pg'))?.version).toBe('1.10.0');
    expect((await store.getLatestComponent('pg', { includePrerelease: true }))?.version).toBe('2.0.0-rc.1');
    expect(await store.getComponent('pg', '1.9.0')).toMatchObject({ name: 'pg', version: '1.9.0' });
    expect(await store.getComponent('pg', '9.9.9')).toBeNull();
    expect(await store.headSequence()).toBe(5);
    await store.close();
  });

  it('never reuses a sequence under concurrent writers sharing the table', async () => {
    const a = await freshStore();
    const table = (a as unknown as { table: string }).table;
    const b = new DynamoStore({
      table,
      endpoint: dynamo.endpoint,
      region: dynamo.region,
      credentials: dynamo.credentials,
    });
    const writes = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).createComponent(spec(`c${i}`, '1.0.0')));
    const outcomes = await Promise.all(writes);
    const ids = outcomes.map((o) => o.event?.id).sort((x, y) => (x ?? 0) - (y ?? 0));
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await a.readEvents(0, 100)).map((e) => e.id)).toEqual(ids);
    await Promise.all([a.close(), b.close()]);
  });

  it('publishes a version once when two writers race, and rejects another digest', async () => {
    const store = await freshStore();
    const [x, y] = await Promise.all([
      store.createComponent(spec('race', '1.0.0')),
      store.createComponent(spec('race', '1.0.0')),
    ]);
    expect([x.event, y.event].filter((e) => e !== null)).toHaveLength(1);
    const err = await store.createComponent(spec('race', '1.0.0', { description: 'other' })).catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'version_conflict')).toBe(true);
    await store.close();
  });

  it('lists through the names index with cursors and rejects garbage cursors', async () => {
    const store = await freshStore();
    for (let i = 0; i < 7; i++) await store.createComponent(spec(`n${i}`, '1.0.0'));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof store.listComponents>> = await store.listComponents({ limit: 2, cursor });
      seen.push(...page.items.map((c) => c.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
    expect((await store.listComponents({ limit: 7 })).nextCursor).toBeNull();
    const err = await store.listComponents({ limit: 2, cursor: '%%garbage' }).catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'invalid_cursor')).toBe(true);
    await store.close();
  });

  it('reads items written before lifecycle states existed the same through the JSON reads', async () => {
    const table = `t-${randomUUID()}`;
    const store = await freshStore(table);
    const { component } = await store.createComponent(spec('old', '1.0.0'));
    // Back to what the store wrote before lifecycle: no revoked, no orphaned, in the version and the head.
    const { revoked: _r, orphaned: _o, ...old } = component;
    const raw = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: dynamo.endpoint, region: dynamo.region, credentials: dynamo.credentials }),
    );
    await raw.send(
      new UpdateCommand({
        TableName: table,
        Key: { PK: componentPk('old'), SK: versionSk('1.0.0') },
        UpdateExpression: 'SET #doc = :doc',
        ExpressionAttributeNames: { '#doc': 'doc' },
        ExpressionAttributeValues: { ':doc': JSON.stringify(old) },
      }),
    );
    await raw.send(
      new UpdateCommand({
        TableName: table,
        Key: { PK: componentPk('old'), SK: HEAD_SK },
        UpdateExpression: 'SET latest = :doc, highest = :doc',
        ExpressionAttributeValues: { ':doc': JSON.stringify(old) },
      }),
    );
    raw.destroy();
    const parsed = await store.getComponent('old', '1.0.0');
    expect(parsed).toMatchObject({ revoked: null, orphaned: null });
    expect((await store.getComponentJson('old', '1.0.0'))?.json).toBe(JSON.stringify(parsed));
    expect((await store.getLatestComponentJson('old'))?.json).toBe(
      JSON.stringify(await store.getLatestComponent('old')),
    );
    await store.close();
  });

  it('tracks dependents and patches mutable fields with events', async () => {
    const store = await freshStore();
    await store.createComponent(spec('base', '1.0.0'));
    await store.createComponent(spec('app', '1.0.0', { dependencies: [{ name: 'base', version_range: '^1.0.0' }] }));
    expect(await store.getDependents('base')).toEqual([{ name: 'app', version: '1.0.0', version_range: '^1.0.0' }]);
    const out = await store.updateComponent('base', '1.0.0', { deprecated: { reason: 'old' } });
    expect(out.event?.type).toBe('component.deprecated');
    expect((await store.getLatestComponent('base'))?.deprecated?.reason).toBe('old');
    expect((await store.updateComponent('base', '1.0.0', { deprecated: { reason: 'old' } })).event).toBeNull();
    const missing = await store.updateComponent('nope', '1.0.0', {}).catch((e: unknown) => e);
    expect(NestorError.hasCode(missing, 'component_not_found')).toBe(true);
    await store.close();
  });

  it('grants a lease to one holder until it expires', async () => {
    const store = await freshStore();
    expect(await store.acquireLease('sync:a', 'r1', 60_000)).toBe(true);
    expect(await store.acquireLease('sync:a', 'r2', 60_000)).toBe(false);
    expect(await store.acquireLease('sync:a', 'r1', 60_000)).toBe(true);
    await store.releaseLease('sync:a', 'r1');
    expect(await store.acquireLease('sync:a', 'r2', 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 5));
    expect(await store.acquireLease('sync:a', 'r3', 60_000)).toBe(true);
    await store.close();
  });

  it('refuses writes beyond DynamoDB limits with payload_too_large before writing, not storage_failure', async () => {
    // The validator never lets these through; the store still answers a clear 413 for any caller.
    const store = await freshStore();
    const deps = Array.from({ length: 97 }, (_, i) => ({ name: `d${i}`, version_range: '^1.0.0' }));
    const tooMany = await store.createComponent(spec('wide', '1.0.0', { dependencies: deps })).catch((e: unknown) => e);
    expect(NestorError.hasCode(tooMany, 'payload_too_large')).toBe(true);
    expect((tooMany as NestorError).details).toMatchObject({ items: 101, limit: 100 });
    const big = await store
      .createComponent(spec('big', '1.0.0', { annotations: { blob: 'x'.repeat(250 * 1024) } }))
      .catch((e: unknown) => e);
    expect(NestorError.hasCode(big, 'payload_too_large')).toBe(true);
    expect(await store.headSequence()).toBe(0);
    expect(await store.getLatestComponent('wide')).toBeNull();
    await store.close();
  });

  it('surfaces an unreachable backend as storage_failure', async () => {
    const store = new DynamoStore({
      table: 'x',
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: dynamo.credentials,
      maxAttempts: 1,
    });
    const err = await store.ping().catch((e: unknown) => e);
    expect(NestorError.hasCode(err, 'storage_failure')).toBe(true);
    await store.close();
  });
});
