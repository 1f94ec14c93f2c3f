import type { AddressInfo } from 'node:net';
import { CatalogMirror, type ComponentDefinition } from '@nestor/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { AUTH, component, postComponent, TOKENS, testApp, uniqueName } from './helpers.js';

let app: App;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ app, cleanup } = await testApp());
});
afterAll(async () => {
  await cleanup();
});

const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, headers: Record<string, string>, payload?: object) =>
  app.server.inject({ method, url, headers, ...(payload ? { payload } : {}) });
const get = (url: string) => inject('GET', url, AUTH.read);
const revoke = (name: string, version: string, reason = 'CVE-2026-0001') =>
  inject('POST', `/v1/components/${name}/versions/${version}/revoke`, AUTH.admin, { reason });
const del = (name: string, version: string) =>
  inject('DELETE', `/v1/components/${name}/versions/${version}`, AUTH.admin);
const restore = (name: string, version: string) =>
  inject('POST', `/v1/components/${name}/versions/${version}/restore`, AUTH.admin, {});

async function publish(...bodies: Parameters<typeof component>[0][]): Promise<void> {
  for (const body of bodies) {
    const res = await postComponent(app, component(body));
    expect(res.statusCode, res.body).toBe(201);
  }
}

describe('revoke (DESIGN.md 10.3)', () => {
  it('skips the version in latest, resolve, list, search and dependencies; exact GET still answers it', async () => {
    const n = uniqueName('rev');
    await publish({ name: n, version: '1.0.0' }, { name: n, version: '1.1.0' });
    const res = await revoke(n, '1.1.0');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().revoked).toMatchObject({ reason: 'CVE-2026-0001' });
    expect((await get(`/v1/components/${n}`)).json().version).toBe('1.0.0');
    expect((await get(`/v1/components/${n}/resolve?range=^1.0.0`)).json().version).toBe('1.0.0');
    const hits = (await get(`/v1/components/search?q=${n}`)).json().items as { name: string; version: string }[];
    expect(hits.filter((c) => c.name === n).map((c) => c.version)).toEqual(['1.0.0']);
    const exact = await get(`/v1/components/${n}/versions/1.1.0`);
    expect(exact.statusCode).toBe(200);
    expect(exact.json().revoked.reason).toBe('CVE-2026-0001');
    expect((await get(`/v1/components/${n}/versions/1.0.0`)).json()).toMatchObject({ revoked: null, orphaned: null });
    const versions = (await get(`/v1/components/${n}/versions`)).json().versions;
    expect(versions.map((v: { version: string; revoked: unknown }) => [v.version, v.revoked !== null])).toEqual([
      ['1.1.0', true],
      ['1.0.0', false],
    ]);
    // Every version revoked: the component leaves the list and its latest is 404 no_matching_version.
    expect((await revoke(n, '1.0.0')).statusCode).toBe(200);
    const latest = await get(`/v1/components/${n}`);
    expect(latest.statusCode).toBe(404);
    expect(latest.json().code).toBe('no_matching_version');
    const list = (await get('/v1/components?limit=500')).json().items as { name: string }[];
    expect(list.some((c) => c.name === n)).toBe(false);
    const found = (await get(`/v1/components/search?q=${n}&facets=provider`)).json();
    expect(found.items.some((c: { name: string }) => c.name === n)).toBe(false);
    expect(found.total).toBe(0);
    expect((await get(`/v1/components/${n}/resolve?range=*`)).json().code).toBe('no_matching_version');
  });

  it('fails validation with dependency_revoked for a dependency only revoked versions satisfy', async () => {
    const base = uniqueName('base');
    await publish({ name: base, version: '1.0.0' }, { name: base, version: '2.0.0' });
    expect((await revoke(base, '1.0.0')).statusCode).toBe(200);
    const res = await postComponent(
      app,
      component({ name: uniqueName('user'), dependencies: [{ name: base, version_range: '^1.0.0' }] }),
    );
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().errors.map((e: { code: string }) => e.code)).toEqual(['dependency_revoked']);
    const ok = await postComponent(
      app,
      component({ name: uniqueName('user'), dependencies: [{ name: base, version_range: '^2.0.0' }] }),
    );
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('needs admin, a reason of bounded size, and an existing, undeleted version', async () => {
    const n = uniqueName('rev');
    await publish({ name: n, version: '1.0.0' });
    const url = `/v1/components/${n}/versions/1.0.0/revoke`;
    expect((await inject('POST', url, AUTH.write, { reason: 'x' })).statusCode).toBe(403);
    expect((await inject('POST', url, {}, { reason: 'x' })).statusCode).toBe(401);
    for (const payload of [{}, { reason: '' }, { reason: 'x'.repeat(100_000) }, { reason: 'x', extra: 1 }]) {
      const res = await inject('POST', url, AUTH.admin, payload);
      expect([400, 413], res.body).toContain(res.statusCode);
    }
    expect((await revoke(n, '9.9.9')).json().code).toBe('component_not_found');
    expect((await revoke(uniqueName('none'), '1.0.0')).statusCode).toBe(404);
    expect((await revoke(n, 'v1')).statusCode).toBe(400);
    expect((await get(`/v1/components/${n}/versions/1.0.0`)).json().revoked).toBeNull();
  });
});

describe('delete and restore (DESIGN.md 10.3)', () => {
  it('answers 410 after delete, never reuses the number, and restores', async () => {
    const n = uniqueName('del');
    await publish({ name: n, version: '1.0.0' }, { name: n, version: '1.1.0' });
    const res = await del(n, '1.1.0');
    expect(res.statusCode, res.body).toBe(200);
    const gone = await get(`/v1/components/${n}/versions/1.1.0`);
    expect(gone.statusCode).toBe(410);
    expect(gone.json().code).toBe('component_deleted');
    expect((await get(`/v1/components/${n}`)).json().version).toBe('1.0.0');
    expect(
      (await get(`/v1/components/${n}/versions`)).json().versions.map((v: { version: string }) => v.version),
    ).toEqual(['1.0.0']);
    // Re-publishing the very same content is refused: the number is taken for ever.
    const again = await postComponent(app, component({ name: n, version: '1.1.0' }));
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('version_conflict');
    const twice = await del(n, '1.1.0');
    expect(twice.statusCode).toBe(410);
    const patch = await inject('PATCH' as 'POST', `/v1/components/${n}/versions/1.1.0`, AUTH.write, { labels: {} });
    expect(patch.statusCode).toBe(410);
    expect((await restore(n, '1.1.0')).statusCode).toBe(200);
    expect((await get(`/v1/components/${n}/versions/1.1.0`)).statusCode).toBe(200);
    expect((await get(`/v1/components/${n}`)).json().version).toBe('1.1.0');
    expect((await del(uniqueName('none'), '1.0.0')).json().code).toBe('component_not_found');
  });

  it('refuses with has_dependents while an available version needs it, and lets go once it does not', async () => {
    const base = uniqueName('base');
    const user = uniqueName('user');
    await publish({ name: base, version: '1.0.0' });
    await publish({ name: user, version: '1.0.0', dependencies: [{ name: base, version_range: '^1.0.0' }] });
    const refused = await del(base, '1.0.0');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('has_dependents');
    expect(refused.json().details.dependents).toEqual([{ name: user, version: '1.0.0', version_range: '^1.0.0' }]);
    expect((await get(`/v1/components/${base}/versions/1.0.0`)).statusCode).toBe(200);
    // Another version in range: the dependent is not left without one.
    await publish({ name: base, version: '1.0.1' });
    expect((await del(base, '1.0.0')).statusCode).toBe(200);
    // A revoked dependent does not hold a version back.
    expect((await revoke(user, '1.0.0')).statusCode).toBe(200);
    expect((await del(base, '1.0.1')).statusCode).toBe(200);
  });

  it('appends component.revoked, component.deleted and component.restored events', async () => {
    const n = uniqueName('ev');
    await publish({ name: n, version: '1.0.0' });
    const head = Number((await get('/v1/components?limit=1')).headers['x-catalog-revision']);
    await revoke(n, '1.0.0');
    await del(n, '1.0.0');
    await restore(n, '1.0.0');
    const events = await app.store.readEvents(head, 10);
    expect(events.map((e) => [e.type, e.subject.name])).toEqual([
      ['component.revoked', n],
      ['component.deleted', n],
      ['component.restored', n],
    ]);
  });
});

describe('CatalogMirror and the lifecycle', () => {
  it('moves to the next latest on revoke, drops a name with none left, and takes a restored version back', async () => {
    const served = await testApp();
    try {
      await served.app.server.listen({ port: 0, host: '127.0.0.1' });
      const port = (served.app.server.server.address() as AddressInfo).port;
      const n = uniqueName('mir');
      for (const version of ['1.0.0', '1.1.0']) {
        const res = await served.app.server.inject({
          method: 'POST',
          url: '/v1/components',
          headers: AUTH.write,
          payload: component({ name: n, version }),
        });
        expect(res.statusCode, res.body).toBe(201);
      }
      const mirror = new CatalogMirror({ baseUrl: `http://127.0.0.1:${port}`, token: TOKENS.read });
      const removed: ComponentDefinition[] = [];
      mirror.on('removed', (c) => removed.push(c));
      await mirror.ready();
      expect(mirror.get(n)?.version).toBe('1.1.0');
      const admin = (url: string, payload?: object) =>
        served.app.server.inject({ method: 'POST', url, headers: AUTH.admin, payload: payload ?? {} });
      const until = async (check: () => boolean) => {
        for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
        expect(check()).toBe(true);
      };
      await admin(`/v1/components/${n}/versions/1.1.0/revoke`, { reason: 'bad' });
      await until(() => mirror.get(n)?.version === '1.0.0');
      await served.app.server.inject({
        method: 'DELETE',
        url: `/v1/components/${n}/versions/1.0.0`,
        headers: AUTH.admin,
      });
      await until(() => mirror.get(n) === undefined);
      expect(removed.map((c) => c.version)).toEqual(['1.0.0']);
      await admin(`/v1/components/${n}/versions/1.1.0/restore`);
      await until(() => mirror.get(n)?.version === '1.1.0');
      expect(mirror.get(n)?.revoked).toBeNull();
      await mirror.close();
    } finally {
      await served.cleanup();
    }
  });
});
