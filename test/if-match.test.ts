import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { AUTH, component, postComponent, testApp, uniqueName } from './helpers.js';

describe('PATCH with If-Match over HTTP (sqlite store)', () => {
  let app: App;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ app, cleanup } = await testApp((c) => {
      c.store.type = 'sqlite';
      c.store.path = join(c.data_dir, 'races.db');
    }));
  });
  afterAll(async () => cleanup());

  const url = (name: string, version = '1.0.0') => `/v1/components/${name}/versions/${version}`;
  const read = (name: string) => app.server.inject({ method: 'GET', url: url(name) });
  const patch = (name: string, body: unknown, ifMatch?: string) =>
    app.server.inject({
      method: 'PATCH',
      url: url(name),
      headers: { ...AUTH.write, ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }) },
      payload: body as Record<string, unknown>,
    });

  it('PATCH with the ETag of the current version applies and answers the new ETag', async () => {
    const name = uniqueName('ifmatch');
    expect((await postComponent(app, component({ name }))).statusCode).toBe(201);
    const etag = (await read(name)).headers.etag as string;
    const ok = await patch(name, { labels: { team: 'a' } }, etag);
    expect(ok.statusCode).toBe(200);
    expect(ok.headers.etag).not.toBe(etag);
    expect(ok.headers.etag).toBe((await read(name)).headers.etag);
    const chained = await patch(name, { maturity: 'beta' }, ok.headers.etag as string);
    expect(chained.statusCode).toBe(200);
  });

  it('a stale ETag is 412 precondition_failed and writes nothing', async () => {
    const name = uniqueName('ifmatch');
    await postComponent(app, component({ name }));
    const stale = (await read(name)).headers.etag as string;
    expect((await patch(name, { labels: { team: 'first' } })).statusCode).toBe(200);
    const before = await read(name);
    const refused = await patch(name, { labels: { team: 'second' }, deprecated: { reason: 'x' } }, stale);
    expect(refused.statusCode).toBe(412);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({ code: 'precondition_failed', status: 412 });
    const after = await read(name);
    expect(after.json().labels).toEqual({ team: 'first' });
    expect(after.json().deprecated).toBeNull();
    expect(after.headers.etag).toBe(before.headers.etag);
    expect(after.headers['x-catalog-revision']).toBe(before.headers['x-catalog-revision']);
  });

  it("weak, malformed and other versions' tags never match; * matches any current version", async () => {
    const name = uniqueName('ifmatch');
    const other = uniqueName('ifmatch');
    await postComponent(app, component({ name }));
    await postComponent(app, component({ name: other, description: 'other content' }));
    const etag = (await read(name)).headers.etag as string;
    const otherTag = (await read(other)).headers.etag as string;
    for (const tag of [`W/${etag}`, 'garbage', '""', otherTag]) {
      expect((await patch(name, { labels: { t: 'x' } }, tag)).statusCode, tag).toBe(412);
    }
    expect((await patch(name, { labels: { t: 'x' } }, `${otherTag}, ${etag}`)).statusCode).toBe(200);
    expect((await patch(name, { labels: { t: 'y' } }, '*')).statusCode).toBe(200);
    const missing = await app.server.inject({
      method: 'PATCH',
      url: url(name, '9.9.9'),
      headers: { ...AUTH.write, 'if-match': etag },
      payload: { labels: {} },
    });
    expect(missing.statusCode).toBe(404);
  });

  it('of concurrent PATCHes from one read, exactly one applies', async () => {
    const name = uniqueName('ifmatch');
    await postComponent(app, component({ name }));
    const etag = (await read(name)).headers.etag as string;
    const answers = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((team) => patch(name, { labels: { team } }, etag)));
    const codes = answers.map((a) => a.statusCode).sort();
    expect(codes).toEqual([200, 412, 412, 412, 412]);
    const winner = answers.find((a) => a.statusCode === 200);
    expect((await read(name)).json().labels).toEqual(winner?.json().labels);
  });

  it('documents If-Match on the PATCH route', async () => {
    const spec = (await app.server.inject({ method: 'GET', url: '/openapi.json' })).json();
    const op = spec.paths['/v1/components/{name}/versions/{version}'].patch;
    expect(op.parameters.some((p: { in: string; name: string }) => p.in === 'header' && p.name === 'if-match')).toBe(
      true,
    );
  });
});
