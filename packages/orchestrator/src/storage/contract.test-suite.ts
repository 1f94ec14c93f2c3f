import { randomBytes } from 'node:crypto';
import {
  type CatalogEvent,
  type ComponentDefinition,
  componentBytes,
  MAX_COMPONENT_BYTES,
  MAX_DEPENDENCIES,
  NestorError,
} from '@nestor/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditId } from './audit-records.js';
import { searchCursor } from './cursor.js';
import type {
  AuditEntry,
  AuditQuery,
  CatalogStore,
  ChangesetWrite,
  ListQuery,
  NewComponent,
  StoredToken,
  WriteOutcome,
} from './interfaces.js';
import { versionSetTag } from './records.js';
import { describeSubscriptionContract } from './subscriptions.test-suite.js';
import { makeComponent, makeEngine, randomName } from './testing.js';

/** A fresh store and how to dispose of it. */
export interface StoreFixture {
  store: CatalogStore;
  cleanup?: () => Promise<void>;
}

/** Declared differences of a backend; each one changes what a test expects, never whether it runs. */
export interface StoreQuirks {
  /** Lease time-to-live used by the lease tests (default 150 ms); raise it for coarse clocks. */
  leaseTtlMs?: number;
}

/**
 * The component with annotations added until `componentBytes` is exactly `bytes`: 4000-character
 * values with multi-byte characters (DynamoDB counts UTF-8 bytes), the last one cut to fit.
 */
function padTo<T extends ComponentDefinition | NewComponent>(component: T, bytes: number): T {
  const annotations: Record<string, string> = { ...component.annotations };
  const padded = { ...component, annotations };
  for (let i = 0; componentBytes(padded) < bytes; i++) {
    const key = `pad-${i}`;
    annotations[key] = '';
    const room = bytes - componentBytes(padded);
    if (room >= 4000 * 3 + 100) annotations[key] = '€'.repeat(4000);
    else if (room >= 0) annotations[key] = 'x'.repeat(room);
    else delete annotations[key];
    if (room < 0) throw new Error('cannot pad exactly');
  }
  return padded;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function expectCode(promise: Promise<unknown>, code: string): Promise<NestorError> {
  try {
    await promise;
  } catch (err) {
    expect(NestorError.is(err), `expected a NestorError, got ${String(err)}`).toBe(true);
    expect((err as NestorError).code).toBe(code);
    return err as NestorError;
  }
  throw new Error(`expected the call to throw ${code}`);
}

/**
 * The one contract every CatalogStore honours. Each implementation's test file calls this with a
 * factory of fresh stores; the suite never skips a test.
 */
export function describeStoreContract(
  name: string,
  makeStore: () => Promise<StoreFixture>,
  quirks: StoreQuirks = {},
): void {
  describe(`CatalogStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: CatalogStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });

    afterEach(async () => {
      await store.close();
      await fixture.cleanup?.();
    });

    /** Stores versions of one name in the given order and returns the name. */
    async function createVersions(versions: string[], base: Parameters<typeof makeComponent>[0] = {}) {
      const n = base.name ?? randomName();
      for (const version of versions) await store.createComponent(makeComponent({ ...base, name: n, version }));
      return n;
    }

    /** Walks a whole list with the given page size. */
    async function walk(query: Omit<ListQuery, 'limit' | 'cursor'>, limit = 2): Promise<ComponentDefinition[]> {
      const all: ComponentDefinition[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 1000; i++) {
        const page = await store.listComponents({ ...query, limit, cursor });
        expect(page.items.length).toBeLessThanOrEqual(limit);
        all.push(...page.items);
        if (!page.nextCursor) return all;
        cursor = page.nextCursor;
      }
      throw new Error('pagination did not end');
    }

    describe('getComponent', () => {
      it('returns the stored version with server-managed fields', async () => {
        const c = makeComponent({ labels: { team: 'data' }, dependencies: [{ name: 'net', version_range: '^1.0.0' }] });
        const { component, event } = await store.createComponent(c);
        const got = await store.getComponent(c.name, c.version);
        expect(got).toEqual(component);
        expect(got).toMatchObject({
          name: c.name,
          version: '1.0.0',
          digest: c.digest,
          labels: { team: 'data' },
          dependencies: [{ name: 'net', version_range: '^1.0.0' }],
          deprecated: null,
        });
        expect(Date.parse(got?.created_at ?? '')).not.toBeNaN();
        expect(got?.updated_at).toBe(got?.created_at);
        expect(got?.revision).toBe(event?.id);
      });

      it('is null for an unknown name or version, including malformed versions', async () => {
        const n = await createVersions(['1.0.0']);
        expect(await store.getComponent(n, '2.0.0')).toBeNull();
        expect(await store.getComponent(randomName(), '1.0.0')).toBeNull();
        expect(await store.getComponent(n, 'v1.0.0')).toBeNull();
        expect(await store.getComponent(n, 'latest')).toBeNull();
      });

      it('does not let callers change stored state by mutating results', async () => {
        const n = await createVersions(['1.0.0']);
        const got = (await store.getComponent(n, '1.0.0')) as ComponentDefinition;
        try {
          got.labels.mutated = 'yes';
        } catch {
          // Frozen results are fine too: what matters is that the store is unaffected.
        }
        expect((await store.getComponent(n, '1.0.0'))?.labels).toEqual({});
      });
    });

    describe('getLatestComponent', () => {
      it('picks the highest stable version over a higher prerelease', async () => {
        const n = await createVersions(['1.2.0', '2.0.0-rc.1', '1.10.0', '1.9.0']);
        expect((await store.getLatestComponent(n))?.version).toBe('1.10.0');
        expect((await store.getLatestComponent(n, { includePrerelease: true }))?.version).toBe('2.0.0-rc.1');
      });

      it('falls back to the highest prerelease when there is no stable version', async () => {
        const n = await createVersions(['1.0.0-alpha', '1.0.0-beta.2', '1.0.0-beta.10', '0.9.0-rc.1']);
        expect((await store.getLatestComponent(n))?.version).toBe('1.0.0-beta.10');
        expect((await store.getLatestComponent(n, { includePrerelease: true }))?.version).toBe('1.0.0-beta.10');
      });

      it('is null for an unknown name and ignores deprecation', async () => {
        expect(await store.getLatestComponent(randomName())).toBeNull();
        const n = await createVersions(['1.0.0', '1.1.0']);
        await store.updateComponent(n, '1.1.0', { deprecated: { reason: 'broken' } });
        const latest = await store.getLatestComponent(n);
        expect(latest?.version).toBe('1.1.0');
        expect(latest?.deprecated?.reason).toBe('broken');
      });

      it('moves when a higher version is created later', async () => {
        const n = await createVersions(['1.0.0']);
        await createVersions(['3.0.0-beta.1'], { name: n });
        expect((await store.getLatestComponent(n))?.version).toBe('1.0.0');
        await createVersions(['2.0.0'], { name: n });
        expect((await store.getLatestComponent(n))?.version).toBe('2.0.0');
        expect((await store.getLatestComponent(n, { includePrerelease: true }))?.version).toBe('3.0.0-beta.1');
      });
    });

    describe('getComponentJson and getLatestComponentJson', () => {
      /** What the parsed read shows, serialised: the JSON read must say exactly this. */
      const shown = (c: ComponentDefinition | null) => (c === null ? null : JSON.stringify(c));
      const sameAsParsed = async (n: string, version: string) => {
        const parsed = await store.getComponent(n, version);
        const raw = await store.getComponentJson(n, version);
        expect(raw && JSON.stringify(JSON.parse(raw.json))).toBe(shown(parsed));
        expect(raw?.digest).toBe(parsed?.digest);
        expect(raw?.revision).toBe(parsed?.revision);
        return raw;
      };

      it('answers the stored definition as reads show it, through patches and lifecycle changes', async () => {
        const n = await createVersions(['1.0.0', '1.1.0', '2.0.0-rc.1'], {
          labels: { team: 'data', 'odd "key"': 'v\\"}' },
          annotations: { note: 'deleted: {"purged_at": "x"}' },
        });
        expect((await sameAsParsed(n, '1.0.0'))?.deleted).toBeNull();
        await store.updateComponent(n, '1.0.0', { labels: { team: 'web' }, maturity: 'beta' });
        await store.updateComponent(n, '1.1.0', { deprecated: { reason: 'use 2.x' } });
        await store.changeLifecycle(n, '2.0.0-rc.1', { kind: 'orphan', source: 'platform' });
        for (const v of ['1.0.0', '1.1.0', '2.0.0-rc.1']) expect((await sameAsParsed(n, v))?.deleted).toBeNull();
        await store.changeLifecycle(n, '1.1.0', { kind: 'revoke', reason: 'CVE' });
        const revoked = await sameAsParsed(n, '1.1.0');
        expect(revoked?.deleted).toBeNull();
        expect(JSON.parse(revoked?.json ?? '{}').revoked.reason).toBe('CVE');
        await store.changeLifecycle(n, '1.1.0', { kind: 'restore' });
        expect((await sameAsParsed(n, '1.1.0'))?.deleted).toBeNull();
      });

      it('signals a deleted version, and a purged one, so the reader can answer 410', async () => {
        const n = await createVersions(['1.0.0', '2.0.0']);
        await store.changeLifecycle(n, '2.0.0', { kind: 'delete', reason: 'mistake' });
        expect((await sameAsParsed(n, '2.0.0'))?.deleted).toEqual({ purged: false });
        await store.changeLifecycle(n, '2.0.0', { kind: 'purge' });
        expect((await sameAsParsed(n, '2.0.0'))?.deleted).toEqual({ purged: true });
        expect((await sameAsParsed(n, '1.0.0'))?.deleted).toBeNull();
      });

      it('picks the latest as getLatestComponent does, and is null where it is', async () => {
        const n = await createVersions(['1.0.0', '1.1.0', '2.0.0-rc.1']);
        await store.updateComponent(n, '1.1.0', { annotations: { a: 'b' } });
        for (const includePrerelease of [false, true]) {
          const parsed = await store.getLatestComponent(n, { includePrerelease });
          const raw = await store.getLatestComponentJson(n, { includePrerelease });
          expect(raw && JSON.stringify(JSON.parse(raw.json))).toBe(shown(parsed));
          expect(raw?.revision).toBe(parsed?.revision);
        }
        await store.changeLifecycle(n, '1.1.0', { kind: 'revoke', reason: 'bad' });
        expect(JSON.parse((await store.getLatestComponentJson(n))?.json ?? '{}').version).toBe('1.0.0');
        expect(await store.getLatestComponentJson(randomName())).toBeNull();
        expect(await store.getComponentJson(n, '9.9.9')).toBeNull();
        expect(await store.getComponentJson(n, 'v1.0.0')).toBeNull();
        expect(await store.getComponentJson(randomName(), '1.0.0')).toBeNull();
      });
    });

    describe('getComponentVersions and listComponentNames', () => {
      it('returns every version in semver-descending order', async () => {
        const n = await createVersions(['1.2.0', '1.10.0', '1.2.0-rc.1', '1.9.0', '0.1.0', '1.2.0-alpha.beta']);
        const versions = await store.getComponentVersions(n);
        expect(versions.map((v) => v.version)).toEqual([
          '1.10.0',
          '1.9.0',
          '1.2.0',
          '1.2.0-rc.1',
          '1.2.0-alpha.beta',
          '0.1.0',
        ]);
        expect(await store.getComponentVersions(randomName())).toEqual([]);
      });

      it('lists every distinct name, sorted', async () => {
        const a = await createVersions(['1.0.0', '2.0.0'], { name: `b-${randomName()}` });
        const b = await createVersions(['0.1.0-rc.1'], { name: `a-${randomName()}` });
        expect(await store.listComponentNames()).toEqual([b, a]);
      });
    });

    describe('listComponents', () => {
      it('shows each name once at its latest version, ordered by name', async () => {
        const a = await createVersions(['1.0.0', '1.1.0', '2.0.0-rc.1'], { name: `a-${randomName()}` });
        const b = await createVersions(['0.1.0-alpha'], { name: `b-${randomName()}` });
        const page = await store.listComponents({ limit: 50 });
        expect(page.items.map((c) => [c.name, c.version])).toEqual([
          [a, '1.1.0'],
          [b, '0.1.0-alpha'],
        ]);
        expect(page.nextCursor).toBeNull();
        const pre = await store.listComponents({ limit: 50, includePrerelease: true });
        expect(pre.items.map((c) => c.version)).toEqual(['2.0.0-rc.1', '0.1.0-alpha']);
      });

      it('walks all pages with limit 2, with no duplicates or gaps while other names are written', async () => {
        const base = randomName('walk');
        const initial = ['a', 'c', 'e', 'g', 'i', 'k', 'm'].map((s) => `${base}-${s}`);
        for (const n of initial) await createVersions(['1.0.0'], { name: n });
        const seen: string[] = [];
        let cursor: string | null = null;
        let round = 0;
        do {
          const page = await store.listComponents({ limit: 2, cursor });
          expect(page.items.length).toBeLessThanOrEqual(2);
          seen.push(...page.items.map((c) => c.name));
          cursor = page.nextCursor;
          // Writes between pages: new names before and after the position, and new versions.
          await createVersions(['1.0.0'], { name: `${base}-${'bdfhjl'[round] ?? 'z'}${round}` });
          await createVersions(['0.0.1'], { name: `${base}-0${round}` });
          await createVersions([`2.0.${round}`], { name: initial[round % initial.length] });
          round++;
        } while (cursor);
        expect(new Set(seen).size).toBe(seen.length);
        for (const n of initial) expect(seen).toContain(n);
        expect([...seen].sort()).toEqual(seen);
      });

      it('paginates exactly', async () => {
        const made: string[] = [];
        for (let i = 0; i < 7; i++) {
          const n = `p${i}-${randomName()}`;
          made.push(n);
          await store.createComponent(makeComponent({ name: n }));
        }
        const all = await walk({}, 3);
        expect(all.map((c) => c.name)).toEqual(made);
        const exact = await store.listComponents({ limit: 7 });
        expect(exact.items).toHaveLength(7);
        expect(exact.nextCursor).toBeNull();
      });

      it('rejects a garbage cursor with invalid_cursor', async () => {
        await createVersions(['1.0.0']);
        for (const cursor of [
          'garbage',
          'n1.!!!',
          'n1.e30',
          `n1.${Buffer.from('{"k":"list"}').toString('base64url')}`,
        ]) {
          await expectCode(store.listComponents({ limit: 2, cursor }), 'invalid_cursor');
        }
        // A search's cursor (the projection's) is not a list position.
        await expectCode(store.listComponents({ limit: 2, cursor: searchCursor(1) }), 'invalid_cursor');
      });

      it('gives the same pages as JSON text (listComponentsJson), each what getLatestComponentJson reads', async () => {
        const base = randomName('json');
        await createVersions(['1.0.0', '1.1.0', '2.0.0-rc.1'], { name: `${base}-a` });
        await createVersions(['0.1.0'], { name: `${base}-b`, description: 'Ünïcode — "quoted" \\ text' });
        await createVersions(['3.0.0'], { name: `${base}-c` });
        for (const includePrerelease of [false, true]) {
          let cursor: string | null = null;
          let jsonCursor: string | null = null;
          do {
            const page = await store.listComponents({ limit: 2, cursor, includePrerelease });
            const text = await store.listComponentsJson({ limit: 2, cursor: jsonCursor, includePrerelease });
            expect(text.items.map((json) => JSON.parse(json))).toEqual(page.items);
            expect(text.nextCursor).toBe(page.nextCursor);
            for (const json of text.items) {
              const { name } = JSON.parse(json) as { name: string };
              expect((await store.getLatestComponentJson(name, { includePrerelease }))?.json).toBe(json);
            }
            cursor = page.nextCursor;
            jsonCursor = text.nextCursor;
          } while (cursor);
        }
        await expectCode(store.listComponentsJson({ limit: 2, cursor: 'garbage' }), 'invalid_cursor');
      });
    });

    describe('getDependents', () => {
      it('returns one entry per depending version, sorted by name then version', async () => {
        const target = randomName('target');
        const b = `b-${randomName()}`;
        const a = `a-${randomName()}`;
        await store.createComponent(
          makeComponent({ name: b, version: '1.10.0', dependencies: [{ name: target, version_range: '^2.0.0' }] }),
        );
        await store.createComponent(
          makeComponent({ name: b, version: '1.9.0', dependencies: [{ name: target, version_range: '^1.0.0' }] }),
        );
        await store.createComponent(
          makeComponent({
            name: a,
            version: '0.1.0',
            dependencies: [
              { name: 'other', version_range: '*' },
              { name: target, version_range: '>=1.0.0' },
            ],
          }),
        );
        await store.createComponent(makeComponent({ name: `c-${randomName()}`, version: '1.0.0' }));
        expect(await store.getDependents(target)).toEqual([
          { name: a, version: '0.1.0', version_range: '>=1.0.0' },
          { name: b, version: '1.9.0', version_range: '^1.0.0' },
          { name: b, version: '1.10.0', version_range: '^2.0.0' },
        ]);
        expect(await store.getDependents(randomName())).toEqual([]);
      });
    });

    describe('createComponent', () => {
      it('appends component.created carrying the stored version', async () => {
        const c = makeComponent();
        const before = await store.headSequence();
        const { component, event } = await store.createComponent(c);
        expect(event).not.toBeNull();
        expect(event?.id).toBe(before + 1);
        expect(event?.type).toBe('component.created');
        expect(event?.subject).toEqual({ name: c.name, version: c.version, digest: c.digest });
        expect(event?.data.component).toEqual(component);
        expect(component.revision).toBe(event?.id);
        expect(await store.headSequence()).toBe(event?.id);
        expect(await store.readEvents(before, 10)).toEqual([event]);
      });

      it('is a no-op for the same digest and a version_conflict for another', async () => {
        const c = makeComponent();
        const first = await store.createComponent(c);
        const head = await store.headSequence();
        const again = await store.createComponent({ ...c });
        expect(again.event).toBeNull();
        expect(again.component).toEqual(first.component);
        expect(await store.headSequence()).toBe(head);
        const changed = makeComponent({ name: c.name, version: c.version, description: 'other content' });
        const err = await expectCode(store.createComponent(changed), 'version_conflict');
        expect(err.details).toMatchObject({ existing_digest: c.digest, submitted_digest: changed.digest });
        expect(await store.headSequence()).toBe(head);
        expect((await store.getComponent(c.name, c.version))?.digest).toBe(c.digest);
      });

      it('stores a version at the model limits: MAX_DEPENDENCIES dependencies and MAX_COMPONENT_BYTES bytes', async () => {
        // Whatever validation lets through must be storable on every backend (DynamoDB: at most 100
        // items per transaction and 400 KB per item, the head item holding two copies).
        const dependencies = Array.from({ length: MAX_DEPENDENCIES }, (_, i) => ({
          name: `dep-${i}`,
          version_range: '^1.0.0',
        }));
        const c = padTo(makeComponent({ dependencies }), MAX_COMPONENT_BYTES);
        expect(componentBytes(c)).toBe(MAX_COMPONENT_BYTES);
        const { component, event } = await store.createComponent(c);
        expect(event?.data.component).toEqual(component);
        expect(await store.getComponent(c.name, c.version)).toEqual(component);
        expect(await store.getLatestComponent(c.name)).toEqual(component);
        const dependents = await store.getDependents('dep-7');
        expect(dependents.filter((d) => d.name === c.name)).toEqual([
          { name: c.name, version: c.version, version_range: '^1.0.0' },
        ]);
        // A prerelease above it: the head then holds two different versions at the limit.
        const pre = padTo(makeComponent({ name: c.name, version: '2.0.0-rc.1', dependencies }), MAX_COMPONENT_BYTES);
        await store.createComponent(pre);
        expect((await store.getLatestComponent(c.name, { includePrerelease: true }))?.version).toBe('2.0.0-rc.1');
        expect((await store.getLatestComponent(c.name))?.annotations).toEqual(c.annotations);
      });

      it('stores only the known fields of a component', async () => {
        const c = { ...makeComponent(), revision: 999, deprecated: { reason: 'x', at: 'y' }, extra: 1 };
        const { component } = await store.createComponent(c);
        expect(component.deprecated).toBeNull();
        expect(component.revision).not.toBe(999);
        expect(Object.hasOwn(component, 'extra')).toBe(false);
      });
    });

    describe('updateComponent', () => {
      it('sets and clears labels, annotations, maturity, support_level and deprecation', async () => {
        const c = makeComponent({ maturity: 'beta', support_level: 'community' });
        const created = await store.createComponent(c);
        const u1 = await store.updateComponent(c.name, c.version, {
          labels: { team: 'data' },
          annotations: { 'docs.io/url': 'https://x' },
          maturity: 'stable',
          support_level: 'supported',
        });
        expect(u1.event?.type).toBe('component.updated');
        expect(u1.component).toMatchObject({
          labels: { team: 'data' },
          annotations: { 'docs.io/url': 'https://x' },
          maturity: 'stable',
          support_level: 'supported',
          digest: c.digest,
          created_at: created.component.created_at,
        });
        expect(u1.event?.data.component).toEqual(u1.component);
        expect(u1.component.revision).toBe(u1.event?.id);
        expect(await store.getComponent(c.name, c.version)).toEqual(u1.component);

        const u2 = await store.updateComponent(c.name, c.version, { deprecated: { reason: 'use v2' } });
        expect(u2.event?.type).toBe('component.deprecated');
        expect(u2.component.deprecated?.reason).toBe('use v2');
        expect(Date.parse(u2.component.deprecated?.at ?? '')).not.toBeNaN();
        expect(u2.component.labels).toEqual({ team: 'data' });

        const u3 = await store.updateComponent(c.name, c.version, { deprecated: null, labels: {}, annotations: {} });
        expect(u3.event?.type).toBe('component.updated');
        expect(u3.component).toMatchObject({ deprecated: null, labels: {}, annotations: {} });
        expect(await store.getComponent(c.name, c.version)).toEqual(u3.component);
        expect((await store.getComponentVersions(c.name))[0]).toEqual(u3.component);
        expect(await store.getLatestComponent(c.name)).toEqual(u3.component);
      });

      it('is a no-op without an event when the patch changes nothing', async () => {
        const c = makeComponent({ labels: { a: '1' }, maturity: 'beta' });
        await store.createComponent(c);
        const head = await store.headSequence();
        for (const patch of [{}, { labels: { a: '1' } }, { maturity: 'beta' as const }, { deprecated: null }]) {
          const out = await store.updateComponent(c.name, c.version, patch);
          expect(out.event).toBeNull();
          expect(out.component.revision).toBe(head);
        }
        await store.updateComponent(c.name, c.version, { deprecated: { reason: 'old' } });
        const same = await store.updateComponent(c.name, c.version, { deprecated: { reason: 'old' } });
        expect(same.event).toBeNull();
        expect(await store.headSequence()).toBe(head + 1);
      });

      it('refuses a patch that would make the version larger than MAX_COMPONENT_BYTES, changing nothing', async () => {
        const c = makeComponent();
        const { component } = await store.createComponent(c);
        const head = await store.headSequence();
        const annotations: Record<string, string> = {};
        // 64 annotations of 4096 characters: what the API's schema lets a PATCH send.
        for (let i = 0; i < 64; i++) annotations[`note-${i}`] = 'é'.repeat(4096);
        const err = await expectCode(store.updateComponent(c.name, c.version, { annotations }), 'validation_failed');
        expect(err.errors).toMatchObject([{ rule: 'metadata', code: 'component_too_large', field: 'annotations' }]);
        expect(await store.headSequence()).toBe(head);
        expect(await store.getComponent(c.name, c.version)).toEqual(component);
        // Just within the limit is stored.
        const fits = padTo({ ...component, annotations: {} }, MAX_COMPONENT_BYTES).annotations;
        const out = await store.updateComponent(c.name, c.version, { annotations: fits });
        expect(componentBytes(out.component)).toBe(MAX_COMPONENT_BYTES);
        expect(await store.getComponent(c.name, c.version)).toEqual(out.component);
      });

      it('throws component_not_found for an unknown name or version', async () => {
        const c = makeComponent();
        await store.createComponent(c);
        await expectCode(store.updateComponent(c.name, '9.9.9', { labels: {} }), 'component_not_found');
        await expectCode(store.updateComponent(randomName(), '1.0.0', { maturity: 'beta' }), 'component_not_found');
      });
    });

    describe('event log', () => {
      it('assigns strictly increasing sequences across every kind of write', async () => {
        const c = makeComponent();
        const events: (CatalogEvent | null)[] = [];
        events.push((await store.createComponent(c)).event);
        events.push(
          await store.appendEvent({
            type: 'engine.health_changed',
            subject: { name: 'terraform', version: null, digest: null },
            data: { health: 'healthy' },
          }),
        );
        events.push((await store.updateComponent(c.name, c.version, { labels: { x: 'y' } })).event);
        events.push((await store.createComponent(makeComponent({ name: c.name, version: '1.1.0' }))).event);
        const ids = events.map((e) => e?.id ?? 0);
        for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe((ids[i - 1] as number) + 1);
        const read = await store.readEvents(0, 100);
        expect(read.map((e) => e.id)).toEqual(ids);
        expect(read[1]).toMatchObject({
          type: 'engine.health_changed',
          subject: { name: 'terraform', version: null, digest: null },
          data: { health: 'healthy' },
        });
        expect(Date.parse(read[1]?.time ?? '')).not.toBeNaN();
        expect(await store.headSequence()).toBe(ids.at(-1));
        expect(await store.oldestSequence()).toBe(ids[0]);
      });

      it('reads after a position with a limit', async () => {
        for (let i = 0; i < 5; i++) await store.createComponent(makeComponent());
        const all = await store.readEvents(0, 100);
        expect(all).toHaveLength(5);
        const first = all[0]?.id as number;
        expect((await store.readEvents(first, 2)).map((e) => e.id)).toEqual([first + 1, first + 2]);
        expect(await store.readEvents(first + 4, 10)).toEqual([]);
        expect(await store.readEvents(0, 0)).toEqual([]);
      });

      it('is empty on a fresh store', async () => {
        expect(await store.headSequence()).toBe(0);
        expect(await store.oldestSequence()).toBe(0);
        expect(await store.readEvents(0, 10)).toEqual([]);
      });

      it('compacts without ever reusing a sequence', async () => {
        for (let i = 0; i < 4; i++) await store.createComponent(makeComponent());
        const head = await store.headSequence();
        expect(await store.compactEvents(head - 2)).toBe(2);
        expect(await store.oldestSequence()).toBe(head - 1);
        expect((await store.readEvents(0, 10)).map((e) => e.id)).toEqual([head - 1, head]);
        expect(await store.compactEvents(head)).toBe(2);
        expect(await store.readEvents(0, 10)).toEqual([]);
        expect(await store.headSequence()).toBe(head);
        expect(await store.oldestSequence()).toBe(head + 1);
        expect(await store.compactEvents(head)).toBe(0);
        const next = await store.createComponent(makeComponent());
        expect(next.event?.id).toBe(head + 1);
        expect(await store.oldestSequence()).toBe(head + 1);
        const appended = await store.appendEvent({
          type: 'source.synced',
          subject: { name: 'platform', version: null, digest: null },
          data: {},
        });
        expect(appended.id).toBe(head + 2);
      });
    });

    describe('conditional writes', () => {
      const tagOf = async (n: string) => versionSetTag(await store.getComponentVersions(n));

      it("creates while the name's version set is the expected one, in any order of versions", async () => {
        const n = await createVersions(['1.0.0', '2.0.0']);
        const versions = await store.getComponentVersions(n);
        expect(versionSetTag([...versions].reverse())).toBe(versionSetTag(versions));
        const outcome = await store.createComponent(makeComponent({ name: n, version: '1.5.0' }), {
          expectedVersionSet: await tagOf(n),
        });
        expect(outcome.event?.type).toBe('component.created');
        const fresh = randomName();
        const first = await store.createComponent(makeComponent({ name: fresh }), {
          expectedVersionSet: versionSetTag([]),
        });
        expect(first.event).not.toBeNull();
      });

      it('refuses a create whose expected version set went stale, writing nothing', async () => {
        const n = await createVersions(['1.0.0']);
        const stale = await tagOf(n);
        await store.createComponent(makeComponent({ name: n, version: '1.0.1' }));
        const head = await store.headSequence();
        const err = await expectCode(
          store.createComponent(makeComponent({ name: n, version: '1.1.0' }), { expectedVersionSet: stale }),
          'precondition_failed',
        );
        expect(err.details).toMatchObject({ component_name: n, version: '1.1.0' });
        expect(await store.getComponent(n, '1.1.0')).toBeNull();
        expect(await store.headSequence()).toBe(head);
        expect((await store.getComponentVersions(n)).map((v) => v.version)).toEqual(['1.0.1', '1.0.0']);
      });

      it('answers an identical re-submission as a no-op whatever the condition', async () => {
        const c = makeComponent();
        await store.createComponent(c);
        const again = await store.createComponent(c, { expectedVersionSet: versionSetTag([]) });
        expect(again.event).toBeNull();
      });

      it('lets exactly one of concurrent creates judged against the same version set through', async () => {
        const n = await createVersions(['1.0.0']);
        const tag = await tagOf(n);
        const versions = ['1.0.1', '1.1.0', '1.2.0', '2.0.0', '1.0.2', '3.0.0'];
        const results = await Promise.allSettled(
          versions.map((version) =>
            store.createComponent(makeComponent({ name: n, version }), { expectedVersionSet: tag }),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect((r.reason as NestorError).code).toBe('precondition_failed');
        }
        expect(await store.getComponentVersions(n)).toHaveLength(2);
      });

      it('updates only while the version is at an expected revision, checked before the no-op test', async () => {
        const c = makeComponent();
        const created = (await store.createComponent(c)).component;
        const first = await store.updateComponent(
          c.name,
          c.version,
          { labels: { team: 'a' } },
          { expectedRevisions: [created.revision] },
        );
        expect(first.component.revision).toBeGreaterThan(created.revision);
        const head = await store.headSequence();
        const err = await expectCode(
          store.updateComponent(
            c.name,
            c.version,
            { labels: { team: 'b' } },
            { expectedRevisions: [created.revision] },
          ),
          'precondition_failed',
        );
        expect(err.details).toMatchObject({
          component_name: c.name,
          version: c.version,
          revision: first.component.revision,
        });
        await expectCode(
          store.updateComponent(c.name, c.version, { labels: { team: 'a' } }, { expectedRevisions: [] }),
          'precondition_failed',
        );
        expect(await store.headSequence()).toBe(head);
        expect((await store.getComponent(c.name, c.version))?.labels).toEqual({ team: 'a' });
        const second = await store.updateComponent(
          c.name,
          c.version,
          { labels: { team: 'b' } },
          { expectedRevisions: [created.revision, first.component.revision] },
        );
        expect(second.component.labels).toEqual({ team: 'b' });
        await expectCode(
          store.updateComponent(c.name, '9.9.9', { labels: {} }, { expectedRevisions: [1] }),
          'component_not_found',
        );
      });

      it('lets exactly one of concurrent updates from the same revision through', async () => {
        const c = makeComponent();
        const created = (await store.createComponent(c)).component;
        const results = await Promise.allSettled(
          ['a', 'b', 'c', 'd'].map((team) =>
            store.updateComponent(c.name, c.version, { labels: { team } }, { expectedRevisions: [created.revision] }),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect((r.reason as NestorError).code).toBe('precondition_failed');
        }
      });
    });

    describe('many creates at once (group commit on SQLite and PostgreSQL)', () => {
      it('answers each of many concurrent creates on its own, with one consecutive event per created version', async () => {
        const base = await createVersions(['1.0.0']);
        const fresh = Array.from({ length: 24 }, () => makeComponent());
        const clashing = makeComponent();
        const clash = makeComponent({ name: clashing.name, description: 'the same version, other content' });
        const twice = makeComponent();
        const head = await store.headSequence();
        const create = (c: NewComponent, tag?: string) =>
          store.createComponent(c, tag === undefined ? {} : { expectedVersionSet: tag });
        const [first, clashes, twins, stale, rest] = await Promise.all([
          Promise.allSettled(fresh.slice(0, 12).map((c) => create(c))),
          Promise.allSettled([create(clashing), create(clash)]),
          Promise.allSettled([create(twice), create(twice)]),
          Promise.allSettled([create(makeComponent({ name: base, version: '2.0.0' }), versionSetTag([]))]),
          Promise.allSettled(fresh.slice(12).map((c) => create(c))),
        ]);
        const created: CatalogEvent[] = [];
        for (const [i, r] of [...first, ...rest].entries()) {
          expect(r.status, r.status === 'rejected' ? String(r.reason) : '').toBe('fulfilled');
          if (r.status !== 'fulfilled') continue;
          expect(r.value.component.digest).toBe(fresh[i]?.digest);
          expect(r.value.event?.subject).toMatchObject({ name: fresh[i]?.name, version: '1.0.0' });
          expect(r.value.component.revision).toBe(r.value.event?.id);
          created.push(r.value.event as CatalogEvent);
        }
        // Of two versions with other content, one is stored and the other refused.
        const won = clashes.filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        const lost = clashes.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect((lost?.reason as NestorError | undefined)?.code).toBe('version_conflict');
        const winner = (won[0] as PromiseFulfilledResult<WriteOutcome>).value;
        expect((await store.getComponent(clashing.name, '1.0.0'))?.digest).toBe(winner.component.digest);
        created.push(winner.event as CatalogEvent);
        // Of two identical creates, one creates and the other is a no-op.
        const events = twins.map((r) => (r.status === 'fulfilled' ? r.value.event : undefined));
        expect(events.filter((e) => e === null)).toHaveLength(1);
        const twinEvent = events.find((e) => e);
        expect(twinEvent?.subject.name).toBe(twice.name);
        created.push(twinEvent as CatalogEvent);
        expect(stale[0]?.status).toBe('rejected');
        expect(((stale[0] as PromiseRejectedResult).reason as NestorError).code).toBe('precondition_failed');
        expect(await store.getComponentVersions(base)).toHaveLength(1);
        // Every created version took the next sequence; the log holds exactly those events.
        const ids = created.map((e) => e.id).sort((a, b) => a - b);
        expect(ids).toEqual(Array.from({ length: 26 }, (_, i) => head + 1 + i));
        expect(await store.headSequence()).toBe(head + 26);
        const log = await store.readEvents(head, 100);
        expect(log.map((e) => e.id)).toEqual(ids);
        expect(log.every((e) => e.type === 'component.created')).toBe(true);
      });
    });

    describe('events with the state they describe', () => {
      const subject = (n: string) => ({ name: n, version: null, digest: null });

      it('writes a state value and its event together', async () => {
        const key = randomName('source');
        const event = await store.appendEvent(
          { type: 'source.synced', subject: subject('platform'), data: { commit: 'abc' } },
          { kind: 'state', key, value: { commit: 'abc' } },
        );
        expect(await store.getState(key)).toEqual({ commit: 'abc' });
        expect((await store.readEvents(event.id - 1, 1))[0]).toMatchObject({ id: event.id, type: 'source.synced' });
      });

      it('puts and deletes an engine with its event; deleting a missing engine appends nothing', async () => {
        const engine = makeEngine();
        const registered = await store.appendEvent(
          { type: 'engine.registered', subject: subject(engine.name), data: { engine: engine.name } },
          { kind: 'engine_put', engine },
        );
        expect(await store.getEngine(engine.name)).toEqual(engine);
        const healthy = { ...engine, health: 'healthy' as const };
        await store.appendEvent(
          { type: 'engine.health_changed', subject: subject(engine.name), data: { health: 'healthy' } },
          { kind: 'engine_put', engine: healthy },
        );
        expect(await store.getEngine(engine.name)).toEqual(healthy);
        const removed = await store.appendEvent(
          { type: 'engine.removed', subject: subject(engine.name), data: { engine: engine.name } },
          { kind: 'engine_delete', name: engine.name },
        );
        expect(removed.id).toBe(registered.id + 2);
        expect(await store.getEngine(engine.name)).toBeNull();
        await expectCode(
          store.appendEvent(
            { type: 'engine.removed', subject: subject(engine.name), data: {} },
            { kind: 'engine_delete', name: engine.name },
          ),
          'engine_not_found',
        );
        expect(await store.headSequence()).toBe(removed.id);
        expect((await store.readEvents(removed.id, 10)).length).toBe(0);
      });

      it('writes an engine registration and deletion with their audit entries; a failed deletion writes neither', async () => {
        const engine = makeEngine();
        const entry = (action: string): AuditEntry => {
          const time = new Date();
          return {
            id: auditId(time),
            time: time.toISOString(),
            actor: 'token:admin',
            action,
            subject: engine.name,
            request_id: `req-${randomName()}`,
            ip: '127.0.0.1',
            outcome: 'ok',
            details: { type: engine.type },
          };
        };
        const entries = async () =>
          (await store.listAudit({ limit: 10, subject: engine.name })).items.map((e) => e.action).sort();
        const registeredAudit = entry('engine.register');
        const registered = await store.appendEvent(
          { type: 'engine.registered', subject: subject(engine.name), data: { engine: engine.name } },
          { kind: 'engine_put', engine },
          registeredAudit,
        );
        expect(await store.getEngine(engine.name)).toEqual(engine);
        expect((await store.listAudit({ limit: 10, subject: engine.name })).items).toEqual([registeredAudit]);
        const deletedAudit = entry('engine.delete');
        const removed = await store.appendEvent(
          { type: 'engine.removed', subject: subject(engine.name), data: { engine: engine.name } },
          { kind: 'engine_delete', name: engine.name },
          deletedAudit,
        );
        expect(removed.id).toBe(registered.id + 1);
        expect(await store.getEngine(engine.name)).toBeNull();
        expect(await entries()).toEqual(['engine.delete', 'engine.register']);
        // The store refuses the deletion (no such engine): its audit entry goes with it, as does the event.
        await expectCode(
          store.appendEvent(
            { type: 'engine.removed', subject: subject(engine.name), data: { engine: engine.name } },
            { kind: 'engine_delete', name: engine.name },
            entry('engine.delete'),
          ),
          'engine_not_found',
        );
        expect(await entries()).toEqual(['engine.delete', 'engine.register']);
        expect(await store.headSequence()).toBe(removed.id);
      });
    });

    describe('engines', () => {
      it('puts, gets, lists, replaces and deletes', async () => {
        const b = makeEngine({ name: `b-${randomName()}` });
        const a = makeEngine({ name: `a-${randomName()}`, type: 'crossplane', endpoint: null, labels: { k: 'v' } });
        expect(await store.getEngine(a.name)).toBeNull();
        await store.putEngine(b);
        await store.putEngine(a);
        expect(await store.getEngine(a.name)).toEqual(a);
        expect(await store.listEngines()).toEqual([a, b]);
        const healthy = {
          ...b,
          health: 'healthy' as const,
          last_latency_ms: 12,
          last_checked: new Date().toISOString(),
        };
        await store.putEngine(healthy);
        expect(await store.getEngine(b.name)).toEqual(healthy);
        expect(await store.deleteEngine(a.name)).toBe(true);
        expect(await store.deleteEngine(a.name)).toBe(false);
        expect(await store.listEngines()).toEqual([healthy]);
      });
    });

    describe('state', () => {
      it('gets and puts JSON values', async () => {
        const key = randomName('source');
        expect(await store.getState(key)).toBeNull();
        await store.putState(key, { commit: 'abc', files: [1, 2], nested: { ok: true } });
        expect(await store.getState(key)).toEqual({ commit: 'abc', files: [1, 2], nested: { ok: true } });
        await store.putState(key, 'replaced');
        expect(await store.getState(key)).toBe('replaced');
      });
    });

    describe('leases', () => {
      const ttl = quirks.leaseTtlMs ?? 150;

      it('grants, renews for the holder and refuses others until expiry', async () => {
        const lease = randomName('lease');
        expect(await store.acquireLease(lease, 'a', ttl)).toBe(true);
        expect(await store.acquireLease(lease, 'b', ttl)).toBe(false);
        expect(await store.acquireLease(lease, 'a', ttl)).toBe(true);
        expect(await store.acquireLease(randomName('lease'), 'b', ttl)).toBe(true);
        await sleep(ttl + 50);
        expect(await store.acquireLease(lease, 'b', ttl)).toBe(true);
        expect(await store.acquireLease(lease, 'a', ttl)).toBe(false);
      });

      it('is free again once released by its holder only', async () => {
        const lease = randomName('lease');
        expect(await store.acquireLease(lease, 'a', 60_000)).toBe(true);
        await store.releaseLease(lease, 'b');
        expect(await store.acquireLease(lease, 'b', 60_000)).toBe(false);
        await store.releaseLease(lease, 'a');
        expect(await store.acquireLease(lease, 'b', 60_000)).toBe(true);
      });
    });

    describe('version lifecycle (DESIGN.md 10.3)', () => {
      it('revokes: latest and list skip the version; exact reads show it; a second revoke is a no-op', async () => {
        const n = await createVersions(['1.0.0', '1.1.0', '2.0.0-rc.1'], { description: 'lifecycle probe' });
        const revoked = await store.changeLifecycle(n, '1.1.0', { kind: 'revoke', reason: 'CVE-2026-1' });
        expect(revoked.event?.type).toBe('component.revoked');
        expect(revoked.event?.data['changed']).toEqual(['revoked']);
        expect(revoked.component.revoked?.reason).toBe('CVE-2026-1');
        expect(revoked.component.revision).toBe(revoked.event?.id);
        expect((await store.getComponent(n, '1.1.0'))?.revoked?.reason).toBe('CVE-2026-1');
        expect((await store.getComponent(n, '1.0.0'))?.revoked).toBeNull();
        expect((await store.getLatestComponent(n))?.version).toBe('1.0.0');
        expect((await walk({})).find((c) => c.name === n)?.version).toBe('1.0.0');
        const again = await store.changeLifecycle(n, '1.1.0', { kind: 'revoke', reason: 'other' });
        expect(again.event).toBeNull();
        expect(again.component.revoked?.reason).toBe('CVE-2026-1');

        await store.changeLifecycle(n, '1.0.0', { kind: 'revoke', reason: 'all bad' });
        // Only a prerelease is left: it is the latest, as for a name that has only prereleases.
        expect((await store.getLatestComponent(n))?.version).toBe('2.0.0-rc.1');
        await store.changeLifecycle(n, '2.0.0-rc.1', { kind: 'revoke', reason: 'all bad' });
        expect(await store.getLatestComponent(n)).toBeNull();
        expect(await store.getLatestComponent(n, { includePrerelease: true })).toBeNull();
        expect((await walk({})).some((c) => c.name === n)).toBe(false);
        expect((await walk({ includePrerelease: true })).some((c) => c.name === n)).toBe(false);
        expect(await store.listComponentNames()).not.toContain(n);
        expect((await store.getComponentVersions(n)).map((v) => v.version)).toEqual(['2.0.0-rc.1', '1.1.0', '1.0.0']);

        const restored = await store.changeLifecycle(n, '1.1.0', { kind: 'restore' });
        expect(restored.event?.type).toBe('component.restored');
        expect(restored.component.revoked).toBeNull();
        expect((await store.getLatestComponent(n))?.version).toBe('1.1.0');
        expect((await walk({})).find((c) => c.name === n)?.version).toBe('1.1.0');
        expect(await store.listComponentNames()).toContain(n);
      });

      it('deletes softly: the number stays taken, writes are refused, restore brings it back', async () => {
        const n = await createVersions(['1.0.0', '2.0.0']);
        const deleted = await store.changeLifecycle(n, '2.0.0', { kind: 'delete', reason: 'published by mistake' });
        expect(deleted.event?.type).toBe('component.deleted');
        expect(deleted.component.deleted).toMatchObject({ reason: 'published by mistake', purged_at: null });
        expect((await store.getComponent(n, '2.0.0'))?.deleted?.at).toBe(deleted.component.deleted?.at);
        expect((await store.getLatestComponent(n))?.version).toBe('1.0.0');
        // Neither the same content nor other content may take the number again.
        await expectCode(store.createComponent(makeComponent({ name: n, version: '2.0.0' })), 'version_conflict');
        await expectCode(
          store.createComponent(makeComponent({ name: n, version: '2.0.0', description: 'other' })),
          'version_conflict',
        );
        await expectCode(store.updateComponent(n, '2.0.0', { labels: { a: 'b' } }), 'component_deleted');
        await expectCode(store.changeLifecycle(n, '2.0.0', { kind: 'revoke', reason: 'x' }), 'component_deleted');
        await expectCode(store.changeLifecycle(n, '2.0.0', { kind: 'delete', reason: null }), 'component_deleted');
        const head = await store.headSequence();
        await expectCode(store.changeLifecycle(n, '9.9.9', { kind: 'delete', reason: null }), 'component_not_found');
        await expectCode(
          store.changeLifecycle(randomName(), '1.0.0', { kind: 'revoke', reason: 'x' }),
          'component_not_found',
        );
        expect(await store.headSequence()).toBe(head);

        const listed = await store.listDeletedVersions('9999-12-31T00:00:00.000Z', 100);
        expect(listed.filter((d) => d.name === n)).toEqual([
          { name: n, version: '2.0.0', at: deleted.component.deleted?.at },
        ]);
        expect((await store.listDeletedVersions('2000-01-01T00:00:00.000Z', 100)).filter((d) => d.name === n)).toEqual(
          [],
        );

        const restored = await store.changeLifecycle(n, '2.0.0', { kind: 'restore' });
        expect(restored.component.deleted ?? null).toBeNull();
        expect((await store.getComponent(n, '2.0.0'))?.deleted ?? null).toBeNull();
        expect((await store.getLatestComponent(n))?.version).toBe('2.0.0');
        expect((await store.listDeletedVersions('9999-12-31T00:00:00.000Z', 100)).some((d) => d.name === n)).toBe(
          false,
        );
        expect((await store.changeLifecycle(n, '2.0.0', { kind: 'restore' })).event).toBeNull();
      });

      it('purges a deleted version down to a tombstone whose number is never reusable', async () => {
        const target = await createVersions(['1.0.0']);
        const n = await createVersions(['1.0.0', '1.1.0'], {
          labels: { team: 'x' },
          dependencies: [{ name: target, version_range: '^1.0.0' }],
        });
        await expectCode(store.changeLifecycle(n, '1.1.0', { kind: 'purge' }), 'invalid_request');
        await store.changeLifecycle(n, '1.1.0', { kind: 'delete', reason: null });
        const purged = await store.changeLifecycle(n, '1.1.0', { kind: 'purge' });
        expect(purged.event?.type).toBe('component.purged');
        const tomb = await store.getComponent(n, '1.1.0');
        expect(tomb?.deleted?.purged_at).toBeTruthy();
        expect(tomb).toMatchObject({ dependencies: [], labels: {}, description: '', digest: purged.component.digest });
        expect((await store.getDependents(target)).map((d) => d.version)).toEqual(['1.0.0']);
        expect((await store.listDeletedVersions('9999-12-31T00:00:00.000Z', 100)).some((d) => d.name === n)).toBe(
          false,
        );
        await expectCode(store.changeLifecycle(n, '1.1.0', { kind: 'restore' }), 'component_deleted');
        expect((await store.changeLifecycle(n, '1.1.0', { kind: 'purge' })).event).toBeNull();
        await expectCode(
          store.createComponent(
            makeComponent({
              name: n,
              version: '1.1.0',
              labels: { team: 'x' },
              dependencies: [{ name: target, version_range: '^1.0.0' }],
            }),
          ),
          'version_conflict',
        );
        expect((await store.getLatestComponent(n))?.version).toBe('1.0.0');
      });

      it('marks and unmarks orphans without touching latest', async () => {
        const n = await createVersions(['1.0.0']);
        const marked = await store.changeLifecycle(n, '1.0.0', { kind: 'orphan', source: 'platform' });
        expect(marked.event?.type).toBe('component.orphaned');
        expect(marked.component.orphaned?.source).toBe('platform');
        expect((await store.getLatestComponent(n))?.orphaned?.source).toBe('platform');
        expect((await store.changeLifecycle(n, '1.0.0', { kind: 'orphan', source: 'platform' })).event).toBeNull();
        const unmarked = await store.changeLifecycle(n, '1.0.0', { kind: 'unorphan' });
        expect(unmarked.event?.type).toBe('component.updated');
        expect(unmarked.event?.data['changed']).toEqual(['orphaned']);
        expect((await store.getComponent(n, '1.0.0'))?.orphaned).toBeNull();
      });

      it('checks an expected revision before changing anything', async () => {
        const n = await createVersions(['1.0.0']);
        const current = (await store.getComponent(n, '1.0.0')) as ComponentDefinition;
        await expectCode(
          store.changeLifecycle(
            n,
            '1.0.0',
            { kind: 'revoke', reason: 'x' },
            { expectedRevisions: [current.revision + 99] },
          ),
          'precondition_failed',
        );
        const ok = await store.changeLifecycle(
          n,
          '1.0.0',
          { kind: 'revoke', reason: 'x' },
          { expectedRevisions: [current.revision] },
        );
        expect(ok.event?.type).toBe('component.revoked');
      });
    });

    describe('tokens', () => {
      const token = (over: Partial<StoredToken> = {}): StoredToken => ({
        id: randomBytes(8).toString('hex'),
        name: randomName('tok'),
        sha256: randomBytes(32).toString('hex'),
        scopes: ['write'],
        names: ['aws-*'],
        created_at: '2026-01-01T00:00:00.000Z',
        expires_at: null,
        last_used_at: null,
        ...over,
      });

      it('stores, reads, lists oldest first and deletes tokens', async () => {
        const a = token({ created_at: '2026-01-02T00:00:00.000Z', expires_at: '2026-02-01T00:00:00.000Z' });
        const b = token({ created_at: '2026-01-01T00:00:00.000Z', scopes: ['admin', 'provenance'], names: [] });
        await store.createToken(a);
        await store.createToken(b);
        expect(await store.getToken(a.id)).toEqual(a);
        expect(await store.getToken('0000000000000000')).toBeNull();
        expect(await store.listTokens()).toEqual([b, a]);
        expect(await store.deleteToken(a.id)).toBe(true);
        expect(await store.deleteToken(a.id)).toBe(false);
        expect(await store.getToken(a.id)).toBeNull();
        expect(await store.listTokens()).toEqual([b]);
      });

      it('refuses a second token of the same name with token_conflict and stores nothing', async () => {
        const a = token();
        await store.createToken(a);
        const clash = token({ name: a.name });
        await expectCode(store.createToken(clash), 'token_conflict');
        expect(await store.getToken(clash.id)).toBeNull();
        expect(await store.listTokens()).toEqual([a]);
        // A revoked token's name is free again.
        await store.deleteToken(a.id);
        await store.createToken(clash);
        expect(await store.getToken(clash.id)).toEqual(clash);
      });

      it('touches last_used_at only when it is older than notBefore', async () => {
        const a = token();
        await store.createToken(a);
        await store.touchToken(a.id, '2026-03-01T00:00:00.000Z', '2026-02-28T23:59:00.000Z');
        expect((await store.getToken(a.id))?.last_used_at).toBe('2026-03-01T00:00:00.000Z');
        // Within the interval: left alone.
        await store.touchToken(a.id, '2026-03-01T00:00:30.000Z', '2026-02-28T23:59:30.000Z');
        expect((await store.getToken(a.id))?.last_used_at).toBe('2026-03-01T00:00:00.000Z');
        await store.touchToken(a.id, '2026-03-01T00:01:30.000Z', '2026-03-01T00:00:30.000Z');
        expect((await store.getToken(a.id))?.last_used_at).toBe('2026-03-01T00:01:30.000Z');
        await expect(
          store.touchToken('ffffffffffffffff', '2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'),
        ).resolves.toBeUndefined();
        expect(await store.getToken('ffffffffffffffff')).toBeNull();
      });
    });

    describe('audit log', () => {
      let seq = 0;
      const entry = (over: Partial<AuditEntry> = {}): AuditEntry => {
        seq += 1;
        const time = over.time ?? new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
        return {
          id: auditId(new Date(time)),
          time,
          actor: 'token:ci',
          action: 'component.create',
          subject: 'aws-vpc@1.0.0',
          request_id: `req-${seq}`,
          ip: '127.0.0.1',
          outcome: 'ok',
          details: { n: seq },
          ...over,
        };
      };

      it('lists newest first with filters and cursor pages that never repeat or skip', async () => {
        const a = entry({ subject: 'aws-vpc@1.0.0' });
        const b = entry({ subject: 'aws-vpc@2.0.0', actor: 'source:platform' });
        const c = entry({ subject: 'aws-vpc-extra@1.0.0', action: 'component.patch', outcome: 'denied' });
        const d = entry({ subject: '0123456789abcdef', action: 'token.create', actor: 'token:admin' });
        for (const e of [c, a, d, b]) await store.appendAudit(e);
        const all = await store.listAudit({ limit: 10 });
        expect(all).toEqual({ items: [d, c, b, a], nextCursor: null });
        const ids = (q: Omit<AuditQuery, 'limit'>) =>
          store.listAudit({ ...q, limit: 10 }).then((p) => p.items.map((e) => e.id));
        expect(await ids({ actor: 'token:ci' })).toEqual([c.id, a.id]);
        expect(await ids({ action: 'component.patch' })).toEqual([c.id]);
        expect(await ids({ subject: 'aws-vpc' })).toEqual([b.id, a.id]);
        expect(await ids({ subject: 'aws-vpc@1.0.0' })).toEqual([a.id]);
        expect(await ids({ subject: '0123456789abcdef' })).toEqual([d.id]);
        expect(await ids({ subject: 'aws-%' })).toEqual([]);
        expect(await ids({ since: b.time, until: c.time })).toEqual([c.id, b.id]);
        const first = await store.listAudit({ limit: 3 });
        expect(first.items).toEqual([d, c, b]);
        expect(first.nextCursor).not.toBeNull();
        expect(await store.listAudit({ limit: 3, cursor: first.nextCursor })).toEqual({ items: [a], nextCursor: null });
        expect(await store.pruneAudit(b.time)).toBe(1);
        expect((await store.listAudit({ limit: 10 })).items).toEqual([d, c, b]);
      });

      it('writes the entry of a change with the change, and none when nothing is written', async () => {
        const c = makeComponent();
        const created = entry({ subject: `${c.name}@1.0.0` });
        await store.createComponent(c, { audit: created });
        // An identical re-submission and a conflicting one write no entry.
        await store.createComponent(c, { audit: entry() });
        await expectCode(
          store.createComponent({ ...c, digest: 'sha256:other' }, { audit: entry() }),
          'version_conflict',
        );
        await expectCode(
          store.createComponent(makeComponent({ name: c.name, version: '2.0.0' }), {
            expectedVersionSet: 'stale',
            audit: entry(),
          }),
          'precondition_failed',
        );
        const patched = entry({ action: 'component.patch', subject: `${c.name}@1.0.0` });
        await store.updateComponent(c.name, '1.0.0', { labels: { a: 'b' } }, { audit: patched });
        await store.updateComponent(c.name, '1.0.0', { labels: { a: 'b' } }, { audit: entry() });
        await expectCode(
          store.updateComponent(c.name, '9.9.9', { labels: {} }, { audit: entry() }),
          'component_not_found',
        );
        const orphaned = entry({ action: 'component.orphan', actor: 'source:platform', subject: `${c.name}@1.0.0` });
        await store.changeLifecycle(c.name, '1.0.0', { kind: 'orphan', source: 'platform' }, { audit: orphaned });
        // Orphaning an orphan changes nothing and records nothing.
        await store.changeLifecycle(c.name, '1.0.0', { kind: 'orphan', source: 'platform' }, { audit: entry() });
        const t: StoredToken = {
          id: randomBytes(8).toString('hex'),
          name: randomName('tok'),
          sha256: randomBytes(32).toString('hex'),
          scopes: ['read'],
          names: [],
          created_at: '2026-01-01T00:00:00.000Z',
          expires_at: null,
          last_used_at: null,
        };
        const tokenCreated = entry({ action: 'token.create', subject: t.id });
        await store.createToken(t, tokenCreated);
        await expectCode(store.createToken({ ...t, id: randomBytes(8).toString('hex') }, entry()), 'token_conflict');
        const tokenRevoked = entry({ action: 'token.revoke', subject: t.id });
        expect(await store.deleteToken(t.id, tokenRevoked)).toBe(true);
        expect(await store.deleteToken(t.id, entry())).toBe(false);
        expect((await store.listAudit({ limit: 50 })).items).toEqual([
          tokenRevoked,
          tokenCreated,
          orphaned,
          patched,
          created,
        ]);
      });
    });

    describe('changesets (DESIGN.md 10.4)', () => {
      const audit = (subject: string): AuditEntry => ({
        id: auditId(new Date()),
        time: new Date().toISOString(),
        actor: 'token:ci',
        action: 'changeset.create',
        subject,
        request_id: null,
        ip: null,
        outcome: 'ok',
        details: {},
      });
      const changeset = (members: NewComponent[], over: Partial<ChangesetWrite> = {}): ChangesetWrite => {
        const id = randomBytes(8).toString('hex');
        return { id, actor: 'token:ci', message: 'bump', members, audit: audit(id), ...over };
      };
      /** Everything a failed changeset must have left as it was. */
      async function snapshot(members: NewComponent[]) {
        return {
          head: await store.headSequence(),
          versions: await Promise.all(members.map((m) => store.getComponentVersions(m.name))),
          audit: (await store.listAudit({ limit: 100 })).items.length,
        };
      }

      it('writes every member with consecutive events naming the set, its record and its audit entry', async () => {
        const base = makeComponent();
        const next = makeComponent({ name: base.name, version: '1.1.0' });
        const app = makeComponent({ dependencies: [{ name: base.name, version_range: '^1.1.0' }] });
        const before = await store.headSequence();
        const write = changeset([base, next, app]);
        const out = await store.createChangeset(write);
        expect(out.events.map((e) => e.id)).toEqual([before + 1, before + 2, before + 3]);
        expect(out.events.map((e) => e.data['changeset'])).toEqual([write.id, write.id, write.id]);
        expect(out.events.map((e) => e.type)).toEqual(['component.created', 'component.created', 'component.created']);
        expect(await store.readEvents(before, 10)).toEqual(out.events);
        expect(out.components.map((c) => c.revision)).toEqual([before + 1, before + 2, before + 3]);
        expect(out.events[2]?.data['component']).toEqual(out.components[2]);
        expect(await store.headSequence()).toBe(before + 3);
        expect(out.changeset).toMatchObject({ id: write.id, actor: 'token:ci', message: 'bump', revision: before + 3 });
        expect(out.changeset?.items).toEqual([
          { name: base.name, version: '1.0.0', status: 'created' },
          { name: base.name, version: '1.1.0', status: 'created' },
          { name: app.name, version: '1.0.0', status: 'created' },
        ]);
        expect(await store.getChangeset(write.id)).toEqual(out.changeset);
        expect(await store.getChangeset('no-such-changeset')).toBeNull();
        expect((await store.getLatestComponent(base.name))?.version).toBe('1.1.0');
        expect(await store.getComponent(app.name, '1.0.0')).toEqual(out.components[2]);
        expect(await store.getDependents(base.name)).toEqual([
          { name: app.name, version: '1.0.0', version_range: '^1.1.0' },
        ]);
        expect((await store.listAudit({ limit: 100 })).items).toContainEqual(write.audit);
      });

      it('leaves identical members unchanged, and writes nothing when every member is', async () => {
        const a = makeComponent();
        await store.createComponent(a);
        const b = makeComponent();
        const before = await store.headSequence();
        const mixed = await store.createChangeset(changeset([a, b]));
        expect(mixed.changeset?.items.map((i) => i.status)).toEqual(['unchanged', 'created']);
        expect(mixed.events.map((e) => e.id)).toEqual([before + 1]);
        expect(mixed.components[0]).toEqual(await store.getComponent(a.name, a.version));
        const again = await snapshot([a, b]);
        const write = changeset([a, b]);
        const none = await store.createChangeset(write);
        expect(none.changeset).toBeNull();
        expect(none.events).toEqual([]);
        expect(none.components.map((c) => c.version)).toEqual(['1.0.0', '1.0.0']);
        expect(await snapshot([a, b])).toEqual(again);
        expect(await store.getChangeset(write.id)).toBeNull();
      });

      it('fails whole on a version clash, a moved version set or a member given twice', async () => {
        const a = makeComponent();
        await store.createComponent(a);
        const fresh = makeComponent();
        const clash = makeComponent({ name: a.name, version: a.version, description: 'other content' });
        const before = await snapshot([fresh, a]);
        const err = await expectCode(store.createChangeset(changeset([fresh, clash])), 'version_conflict');
        expect(err.details).toMatchObject({ name: a.name, version: a.version });
        const stale = changeset([fresh, makeComponent({ name: a.name, version: '2.0.0' })], {
          expectedVersionSets: { [a.name]: versionSetTag([]) },
        });
        await expectCode(store.createChangeset(stale), 'precondition_failed');
        await expectCode(store.createChangeset(changeset([fresh, { ...fresh }])), 'invalid_request');
        expect(await snapshot([fresh, a])).toEqual(before);
        expect(await store.getChangeset(stale.id)).toBeNull();
        // With the right tag it goes through.
        const ok = changeset([fresh, makeComponent({ name: a.name, version: '2.0.0' })], {
          expectedVersionSets: { [a.name]: versionSetTag([a]), [fresh.name]: versionSetTag([]) },
        });
        expect((await store.createChangeset(ok)).events).toHaveLength(2);
      });
    });

    describeSubscriptionContract(() => store);

    describe('lifecycle', () => {
      it('answers ping', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });
  });
}
