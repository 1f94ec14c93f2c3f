import type { CreatedToken } from '@nestor/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import type { AuditEntry } from '../packages/orchestrator/src/storage/interfaces.js';
import { AUTH, component, testApp, uniqueName } from './helpers.js';

describe('audit log (/v1/audit)', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, cleanup } = await testApp());
  });
  afterAll(async () => cleanup());

  const audit = async (query = '') => {
    const res = await app.server.inject({ method: 'GET', url: `/v1/audit${query}`, headers: AUTH.admin });
    expect(res.statusCode).toBe(200);
    return res.json() as { items: AuditEntry[]; next_cursor: string | null };
  };

  it('records writes with the change, and refused writes with their outcome, newest first', async () => {
    const name = uniqueName('audited');
    const body = component({ name });
    const created = await app.server.inject({
      method: 'POST',
      url: '/v1/components',
      headers: AUTH.write,
      payload: body,
    });
    expect(created.statusCode).toBe(201);
    const again = await app.server.inject({
      method: 'POST',
      url: '/v1/components',
      headers: AUTH.write,
      payload: body,
    });
    expect(again.statusCode).toBe(200);
    const anonymous = await app.server.inject({ method: 'POST', url: '/v1/components', payload: body });
    expect(anonymous.statusCode).toBe(401);
    const clash = await app.server.inject({
      method: 'POST',
      url: '/v1/components',
      headers: AUTH.write,
      payload: { ...body, description: 'other content' },
    });
    expect(clash.statusCode).toBe(409);
    const invalid = await app.server.inject({
      method: 'POST',
      url: '/v1/components',
      headers: AUTH.write,
      payload: { ...body, version: '1.0.1', deployment_engines: ['no-such-engine'] },
    });
    expect(invalid.statusCode).toBe(422);
    const patched = await app.server.inject({
      method: 'PATCH',
      url: `/v1/components/${name}/versions/1.0.0`,
      headers: AUTH.write,
      payload: { labels: { team: 'data' } },
    });
    expect(patched.statusCode).toBe(200);

    const page = await audit(`?subject=${name}`);
    expect(page.items.map((e) => [e.action, e.actor, e.outcome, e.subject])).toEqual([
      ['component.patch', 'token:writer', 'ok', `${name}@1.0.0`],
      ['component.create', 'token:writer', 'invalid', `${name}@1.0.1`],
      ['component.create', 'token:writer', 'conflict', `${name}@1.0.0`],
      ['component.create', 'token:writer', 'ok', `${name}@1.0.0`],
      ['component.create', 'token:writer', 'ok', `${name}@1.0.0`],
    ]);
    expect(page.items.at(-1)?.request_id).toBe(created.headers['x-request-id']);
    expect(page.items.at(-1)?.ip).toBe('127.0.0.1');
    expect(page.items[0]?.details).toEqual({ fields: ['labels'] });
    expect((await audit(`?subject=${name}@1.0.1`)).items).toHaveLength(1);
    // Refused before its body was read: the subject is unknown, the refusal is still recorded.
    const denied = (await audit('?actor=anonymous&action=component.create')).items;
    expect(denied.map((e) => [e.outcome, e.subject, e.request_id])).toContainEqual([
      'denied',
      '',
      anonymous.headers['x-request-id'],
    ]);
    expect((await audit(`?subject=${name}&action=component.patch`)).items).toHaveLength(1);
  });

  it('records token creation and revocation by id, and pages with a cursor', async () => {
    const token = (
      await app.server.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: AUTH.admin,
        payload: { name: uniqueName('t'), scopes: ['read'] },
      })
    ).json() as CreatedToken;
    await app.server.inject({ method: 'DELETE', url: `/v1/tokens/${token.id}`, headers: AUTH.admin });
    const byId = await audit(`?subject=${token.id}`);
    expect(byId.items.map((e) => [e.action, e.actor, e.outcome])).toEqual([
      ['token.revoke', 'token:admin', 'ok'],
      ['token.create', 'token:admin', 'ok'],
    ]);
    expect(JSON.stringify(byId)).not.toContain(token.token);

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const page = await audit(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    const all = await audit('?limit=500');
    expect(seen).toEqual(all.items.map((e) => e.id));
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  it('records an engine registration and deletion once, with the write; refusals once, after the answer', async () => {
    const name = uniqueName('engine');
    const post = (payload: Record<string, unknown>, headers: Record<string, string> = AUTH.admin) =>
      app.server.inject({ method: 'POST', url: '/v1/engines', headers, payload });
    const registered = await post({ name, type: 'pulumi' });
    expect(registered.statusCode, registered.body).toBe(201);
    const entries = await audit(`?subject=${name}`);
    expect(entries.items).toHaveLength(1);
    expect(entries.items[0]).toMatchObject({
      actor: 'token:admin',
      action: 'engine.register',
      subject: name,
      outcome: 'ok',
      request_id: registered.headers['x-request-id'],
      ip: '127.0.0.1',
      details: { type: 'pulumi', endpoint: null },
    });

    // Each refusal, keyed by its request id; a scope refusal comes before the body or params are read.
    const refusals: [string, number, string, string][] = [];
    const refused = async (
      res: { statusCode: number; headers: Record<string, unknown> },
      status: number,
      action: string,
      outcome: string,
    ) => {
      expect(res.statusCode).toBe(status);
      refusals.push([String(res.headers['x-request-id']), status, action, outcome]);
    };
    await refused(await post({ name, type: 'pulumi', endpont: 'http://x' }), 400, 'engine.register', 'invalid');
    await refused(await post({ name, type: 'pulumi' }, AUTH.write), 403, 'engine.register', 'denied');
    await refused(await post({ name, type: 'pulumi' }), 409, 'engine.register', 'conflict');
    const del = (headers: Record<string, string> = AUTH.admin) =>
      app.server.inject({ method: 'DELETE', url: `/v1/engines/${name}`, headers });
    await refused(await del(AUTH.write), 403, 'engine.delete', 'denied');
    const deleted = await del();
    expect(deleted.statusCode).toBe(204);
    await refused(await del(), 404, 'engine.delete', 'invalid');

    const all = (await audit('?limit=500')).items;
    const byRequest = (id: unknown) => all.filter((e) => e.request_id === id);
    expect(byRequest(registered.headers['x-request-id'])).toHaveLength(1);
    expect(byRequest(deleted.headers['x-request-id'])).toEqual([
      expect.objectContaining({ action: 'engine.delete', subject: name, outcome: 'ok', details: {} }),
    ]);
    for (const [id, status, action, outcome] of refusals) {
      expect(byRequest(id), `${action} ${status}`).toEqual([
        expect.objectContaining({ action, outcome, details: { status } }),
      ]);
    }
    expect(
      all
        .filter((e) => e.subject === name && e.outcome === 'ok')
        .map((e) => e.action)
        .sort(),
    ).toEqual(['engine.delete', 'engine.register']);
  });

  it('is admin only, and refuses bad filters with 400', async () => {
    expect((await app.server.inject({ method: 'GET', url: '/v1/audit', headers: AUTH.write })).statusCode).toBe(403);
    expect((await app.server.inject({ method: 'GET', url: '/v1/audit' })).statusCode).toBe(401);
    for (const query of ['?limit=0', '?limit=501', '?cursor=abc', '?since=yesterday', '?until=2026-13-45T00:00:00Z']) {
      const res = await app.server.inject({ method: 'GET', url: `/v1/audit${query}`, headers: AUTH.admin });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code).toBe('invalid_request');
    }
  });
});
