import type { ComponentDefinition } from '@nestor/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionEtag } from '../packages/orchestrator/src/catalog/version-tag.js';
import type { App } from '../packages/orchestrator/src/main.js';
import { AUTH, component, postComponent, testApp, uniqueName } from './helpers.js';

/**
 * The exact and latest GETs answer the stored JSON text without parsing it (decision 24). What
 * they show must be what the parsed read shows, serialised as every other answer is: compared
 * here byte for byte, for each store kind, through patches and every lifecycle state.
 */
for (const kind of ['memory', 'sqlite'] as const) {
  describe(`stored JSON passed through (${kind})`, () => {
    let app: App;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      ({ app, cleanup } = await testApp((c) => {
        c.store.type = kind;
      }));
    });
    afterAll(async () => {
      await cleanup();
    });

    const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers = {}) =>
      app.server.inject({
        method,
        url,
        headers: { ...(method === 'GET' ? AUTH.read : AUTH.admin), ...headers },
        ...(payload ? { payload } : {}),
      });

    /** The parsed read, serialised as the handlers did before they passed stored text through. */
    const parsed = async (name: string, version: string): Promise<string> =>
      JSON.stringify(await app.store.getComponent(name, version));

    async function expectSame(name: string, version: string): Promise<void> {
      const res = await inject('GET', `/v1/components/${name}/versions/${version}`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.body).toBe(await parsed(name, version));
      const def = JSON.parse(res.body) as ComponentDefinition;
      expect(res.headers['etag']).toBe(versionEtag(def));
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['cache-control']).toBe('public, max-age=60');
      expect(Number(res.headers['x-catalog-revision'])).toBeGreaterThanOrEqual(def.revision);
      expect(def).toHaveProperty('revoked');
      expect(def).toHaveProperty('orphaned');
      const again = await inject('GET', `/v1/components/${name}/versions/${version}`, undefined, {
        'if-none-match': res.headers['etag'] as string,
      });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
    }

    async function expectLatest(name: string): Promise<void> {
      for (const pre of [false, true]) {
        const res = await inject('GET', `/v1/components/${name}${pre ? '?include_prerelease=true' : ''}`);
        expect(res.statusCode, res.body).toBe(200);
        expect(res.body).toBe(JSON.stringify(await app.store.getLatestComponent(name, { includePrerelease: pre })));
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      }
    }

    it('answers several versions, patched, deprecated, revoked and restored, exactly as the parsed read', async () => {
      const n = uniqueName('raw');
      for (const version of ['1.0.0', '1.1.0', '2.0.0-rc.1']) {
        const res = await postComponent(
          app,
          component({
            name: n,
            version,
            description: 'quote " back\\slash é 🚀 "revision": 1',
            annotations: { 'docs.example/note': '{"deleted": {}} \\"' },
          }),
        );
        expect(res.statusCode, res.body).toBe(201);
        await expectSame(n, version);
      }
      expect(JSON.parse((await inject('GET', `/v1/components/${n}/versions/1.0.0`)).body).published_by).toBe(
        'token:writer',
      );
      await expectLatest(n);
      const patched = await inject('PATCH', `/v1/components/${n}/versions/1.1.0`, {
        labels: { team: 'web' },
        maturity: 'beta',
        deprecated: { reason: 'use 2.x' },
      });
      expect(patched.statusCode, patched.body).toBe(200);
      await expectSame(n, '1.1.0');
      expect(JSON.parse((await inject('GET', `/v1/components/${n}/versions/1.1.0`)).body)).toMatchObject({
        labels: { team: 'web' },
        maturity: 'beta',
        deprecated: { reason: 'use 2.x' },
      });
      await expectLatest(n);
      expect((await inject('POST', `/v1/components/${n}/versions/1.1.0/revoke`, { reason: 'CVE' })).statusCode).toBe(
        200,
      );
      await expectSame(n, '1.1.0');
      await expectLatest(n);
      expect((await inject('POST', `/v1/components/${n}/versions/1.1.0/restore`, {})).statusCode).toBe(200);
      await expectSame(n, '1.1.0');
      await expectLatest(n);
    });

    it('answers 410 component_deleted for a deleted version, and 404s as before', async () => {
      const n = uniqueName('raw-del');
      for (const version of ['1.0.0', '2.0.0']) {
        expect((await postComponent(app, component({ name: n, version }))).statusCode).toBe(201);
      }
      expect((await inject('DELETE', `/v1/components/${n}/versions/2.0.0`)).statusCode).toBe(200);
      const gone = await inject('GET', `/v1/components/${n}/versions/2.0.0`);
      expect(gone.statusCode).toBe(410);
      expect(gone.json().code).toBe('component_deleted');
      await expectLatest(n);
      expect((await inject('GET', `/v1/components/${n}/versions/9.9.9`)).json().code).toBe('component_not_found');
      expect((await inject('GET', `/v1/components/${uniqueName('none')}`)).json().code).toBe('component_not_found');
      expect((await inject('DELETE', `/v1/components/${n}/versions/1.0.0`)).statusCode).toBe(200);
      const none = await inject('GET', `/v1/components/${n}`);
      expect(none.statusCode).toBe(404);
      expect(none.json().code).toBe('no_matching_version');
    });
  });
}
