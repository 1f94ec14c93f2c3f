import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreatedToken, TokenInfo } from '@nestor/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { AUTH, component, TOKENS, testApp, testConfig, uniqueName } from './helpers.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function createToken(app: App, body: unknown) {
  return app.server.inject({ method: 'POST', url: '/v1/tokens', headers: AUTH.admin, payload: body as object });
}

async function listTokens(app: App): Promise<TokenInfo[]> {
  const res = await app.server.inject({ method: 'GET', url: '/v1/tokens', headers: AUTH.admin });
  expect(res.statusCode).toBe(200);
  return (res.json() as { items: TokenInfo[] }).items;
}

describe('stored API tokens (/v1/tokens)', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  let now = new Date('2026-06-01T00:00:00.000Z');
  beforeAll(async () => {
    const { config, dir } = testConfig();
    app = await buildApp(config, { clock: { now: () => now } });
    cleanup = async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    };
  });
  afterAll(async () => cleanup());
  afterEach(async () => {
    for (const t of await listTokens(app)) {
      await app.server.inject({ method: 'DELETE', url: `/v1/tokens/${t.id}`, headers: AUTH.admin });
    }
  });

  it('creates a token shown once, lists it without secret, and the token works with its scopes', async () => {
    const res = await createToken(app, { name: 'ci-publisher', scopes: ['write'], expires_in: '90d' });
    expect(res.statusCode).toBe(201);
    const created = res.json() as CreatedToken;
    expect(created.token).toMatch(/^nst_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.token.startsWith(`nst_${created.id}_`)).toBe(true);
    expect(res.headers.location).toBe(`/v1/tokens/${created.id}`);
    expect(created).toMatchObject({
      name: 'ci-publisher',
      scopes: ['write'],
      names: [],
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + 90 * 86_400_000).toISOString(),
    });

    const listed = await listTokens(app);
    expect(listed).toEqual([
      {
        id: created.id,
        name: 'ci-publisher',
        prefix: `nst_${created.id}`,
        scopes: ['write'],
        names: [],
        created_at: created.created_at,
        expires_at: created.expires_at,
        last_used_at: null,
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.token.slice(21));

    const published = await app.server.inject({
      method: 'POST',
      url: '/v1/components',
      headers: bearer(created.token),
      payload: component({ name: uniqueName('tok') }),
    });
    expect(published.statusCode).toBe(201);
    // Write scope only: admin routes are forbidden, reads allowed.
    const forbidden = await app.server.inject({ method: 'GET', url: '/v1/tokens', headers: bearer(created.token) });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().code).toBe('forbidden');
    await waitFor(async () => (await listTokens(app))[0]?.last_used_at === now.toISOString());
  });

  it('refuses a tampered secret, a wrong id and a token of the right shape that was never issued', async () => {
    const created = (await createToken(app, { name: 'victim', scopes: ['read'] })).json() as CreatedToken;
    const last = created.token.at(-1) === 'A' ? 'B' : 'A';
    for (const token of [
      `${created.token.slice(0, -1)}${last}`,
      `nst_${'0'.repeat(16)}${created.token.slice(20)}`,
      `nst_${'f'.repeat(16)}_${'x'.repeat(43)}`,
    ]) {
      const res = await app.server.inject({ method: 'GET', url: '/v1/components', headers: bearer(token) });
      expect(res.statusCode, token).toBe(401);
      expect(res.json().code).toBe('unauthorized');
    }
  });

  it('revokes: 204, then the token is refused, and a second revocation is token_not_found', async () => {
    const created = (await createToken(app, { name: 'short-lived', scopes: ['read'] })).json() as CreatedToken;
    expect(
      (await app.server.inject({ method: 'GET', url: '/v1/components', headers: bearer(created.token) })).statusCode,
    ).toBe(200);
    const revoked = await app.server.inject({ method: 'DELETE', url: `/v1/tokens/${created.id}`, headers: AUTH.admin });
    expect(revoked.statusCode).toBe(204);
    const refused = await app.server.inject({ method: 'GET', url: '/v1/components', headers: bearer(created.token) });
    expect(refused.statusCode).toBe(401);
    const again = await app.server.inject({ method: 'DELETE', url: `/v1/tokens/${created.id}`, headers: AUTH.admin });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('token_not_found');
  });

  it('an expired token is refused', async () => {
    const created = (
      await createToken(app, { name: 'expiring', scopes: ['read'], expires_in: 60 })
    ).json() as CreatedToken;
    const read = () => app.server.inject({ method: 'GET', url: '/v1/components', headers: bearer(created.token) });
    expect((await read()).statusCode).toBe(200);
    const before = now;
    now = new Date(now.getTime() + 61_000);
    try {
      const res = await read();
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toMatch(/expired/);
    } finally {
      now = before;
    }
  });

  it('names are unique, and config token names are reserved: 409 token_conflict', async () => {
    expect((await createToken(app, { name: 'dup', scopes: ['read'] })).statusCode).toBe(201);
    const clash = await createToken(app, { name: 'dup', scopes: ['write'] });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().code).toBe('token_conflict');
    const reserved = await createToken(app, { name: 'admin', scopes: ['read'] });
    expect(reserved.statusCode).toBe(409);
    expect((await listTokens(app)).map((t) => t.name)).toEqual(['dup']);
  });

  it('needs the admin scope: anonymous 401, write 403', async () => {
    const anonymous = await app.server.inject({
      method: 'POST',
      url: '/v1/tokens',
      payload: { name: 'x', scopes: ['read'] },
    });
    expect(anonymous.statusCode).toBe(401);
    const writer = await app.server.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: AUTH.write,
      payload: { name: 'x', scopes: ['admin'] },
    });
    expect(writer.statusCode).toBe(403);
    expect(await listTokens(app)).toEqual([]);
  });

  it.each([
    ['a body that is not an object', ['x'], ''],
    ['an unknown field', { name: 'a', scopes: ['read'], scope: 'admin' }, 'scope'],
    ['a missing name', { scopes: ['read'] }, 'name'],
    ['an upper-case name', { name: 'CI', scopes: ['read'] }, 'name'],
    ['a name of 64 characters', { name: 'a'.repeat(64), scopes: ['read'] }, 'name'],
    ['a name with a colon', { name: 'ci:admin', scopes: ['read'] }, 'name'],
    ['a numeric name', { name: 7, scopes: ['read'] }, 'name'],
    ['no scopes', { name: 'a', scopes: [] }, 'scopes'],
    ['scopes that are a string', { name: 'a', scopes: 'admin' }, 'scopes'],
    ['an unknown scope', { name: 'a', scopes: ['root'] }, 'scopes[0]'],
    ['a repeated scope', { name: 'a', scopes: ['read', 'read'] }, 'scopes'],
    ['names that are a string', { name: 'a', scopes: ['write'], names: 'aws-*' }, 'names'],
    ['an empty pattern', { name: 'a', scopes: ['write'], names: [''] }, 'names[0]'],
    ['a pattern with a slash', { name: 'a', scopes: ['write'], names: ['aws/*'] }, 'names[0]'],
    ['a pattern with spaces', { name: 'a', scopes: ['write'], names: ['aws *'] }, 'names[0]'],
    ['a pattern of 129 characters', { name: 'a', scopes: ['write'], names: ['a'.repeat(129)] }, 'names[0]'],
    ['65 patterns', { name: 'a', scopes: ['write'], names: Array.from({ length: 65 }, (_, i) => `p${i}`) }, 'names'],
    ['expires_in in the past', { name: 'a', scopes: ['read'], expires_in: -60 }, 'expires_in'],
    ['expires_in zero', { name: 'a', scopes: ['read'], expires_in: '0s' }, 'expires_in'],
    ['expires_in under a minute', { name: 'a', scopes: ['read'], expires_in: '59s' }, 'expires_in'],
    ['expires_in of a thousand years', { name: 'a', scopes: ['read'], expires_in: '365000d' }, 'expires_in'],
    ['expires_in of 367 days', { name: 'a', scopes: ['read'], expires_in: 367 * 86_400 }, 'expires_in'],
    ['expires_in with an unknown unit', { name: 'a', scopes: ['read'], expires_in: '3w' }, 'expires_in'],
    ['expires_in a fraction of seconds', { name: 'a', scopes: ['read'], expires_in: 90.5 }, 'expires_in'],
    ['expires_in as an object', { name: 'a', scopes: ['read'], expires_in: { days: 1 } }, 'expires_in'],
  ])('refuses %s with 400 invalid_request and stores nothing', async (_what, body, field) => {
    const res = await createToken(app, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('invalid_request');
    if (field) expect(res.json().details.field).toBe(field);
    expect(await listTokens(app)).toEqual([]);
  });

  it('accepts glob patterns, negations and brace sets in names', async () => {
    const res = await createToken(app, {
      name: 'globs',
      scopes: ['write'],
      names: ['aws-*', '{gcp,azure}-db-?', '!aws-iam-*'],
    });
    expect(res.statusCode).toBe(201);
    expect((res.json() as CreatedToken).names).toEqual(['aws-*', '{gcp,azure}-db-?', '!aws-iam-*']);
  });
});

describe('ownership: names patterns, published_by and provenance', () => {
  let app: App;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ app, cleanup } = await testApp());
  });
  afterAll(async () => cleanup());

  const publish = (token: string, body: object) =>
    app.server.inject({ method: 'POST', url: '/v1/components', headers: bearer(token), payload: body });
  const versions = async (name: string) =>
    (await app.server.inject({ method: 'GET', url: `/v1/components/${name}/versions` })).json().versions ?? [];

  it('a token publishes and patches only names its patterns cover; others are 403 naming the patterns', async () => {
    const t = (
      await createToken(app, { name: 'aws-team', scopes: ['write'], names: ['aws-*', '!aws-iam-*'] })
    ).json() as CreatedToken;
    const own = `aws-${uniqueName('db')}`;
    const ok = await publish(t.token, component({ name: own }));
    expect(ok.statusCode).toBe(201);
    expect(ok.json().published_by).toBe('token:aws-team');
    const read = await app.server.inject({ method: 'GET', url: `/v1/components/${own}/versions/1.0.0` });
    expect(read.json().published_by).toBe('token:aws-team');

    for (const other of [`gcp-${uniqueName('db')}`, `aws-iam-${uniqueName('role')}`]) {
      const refused = await publish(t.token, component({ name: other }));
      expect(refused.statusCode, other).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'forbidden', details: { names: ['aws-*', '!aws-iam-*'] } });
      expect(refused.json().detail).toContain('aws-*');
      expect(await versions(other)).toEqual([]);
    }

    // Someone else's component: the patch is refused and changes nothing.
    const foreign = `gcp-${uniqueName('bucket')}`;
    expect((await publish(TOKENS.write, component({ name: foreign }))).statusCode).toBe(201);
    const patch = await app.server.inject({
      method: 'PATCH',
      url: `/v1/components/${foreign}/versions/1.0.0`,
      headers: bearer(t.token),
      payload: { labels: { owner: 'aws-team' } },
    });
    expect(patch.statusCode).toBe(403);
    expect(patch.json().details.names).toEqual(['aws-*', '!aws-iam-*']);
    const after = await app.server.inject({ method: 'GET', url: `/v1/components/${foreign}/versions/1.0.0` });
    expect(after.json().labels).toEqual({ team: 'platform' });
    expect(after.json().published_by).toBe('token:writer');
    const patched = await app.server.inject({
      method: 'PATCH',
      url: `/v1/components/${own}/versions/1.0.0`,
      headers: bearer(t.token),
      payload: { labels: { owner: 'aws-team' } },
    });
    expect(patched.statusCode).toBe(200);
  });

  it('git_* fields need the provenance or admin scope; published_by cannot be forged', async () => {
    const git = {
      git_repository: 'https://git.example/platform.git',
      git_commit: 'a'.repeat(40),
      git_path: 'x/component.yaml',
    };
    const name = uniqueName('prov');
    const refused = await publish(TOKENS.write, component({ name, ...git }));
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'forbidden', details: { required_scope: 'provenance' } });
    expect(await versions(name)).toEqual([]);

    const p = (
      await createToken(app, { name: 'ci-provenance', scopes: ['write', 'provenance'] })
    ).json() as CreatedToken;
    const ok = await publish(p.token, { ...component({ name, ...git }), published_by: 'token:admin' });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ ...git, published_by: 'token:ci-provenance' });
    const admin = await publish(TOKENS.admin, component({ name: uniqueName('prov'), ...git }));
    expect(admin.statusCode).toBe(201);
    expect(admin.json().published_by).toBe('token:admin');
  });
});

describe('revocation across replicas', () => {
  it('a token revoked on one replica is refused by another sharing the store within 2 s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestor-tokens-'));
    const path = join(dir, 'shared.db');
    const a = await testApp((c) => {
      c.store.type = 'sqlite';
      c.store.path = path;
    });
    const b = await testApp((c) => {
      c.store.type = 'sqlite';
      c.store.path = path;
    });
    try {
      const created = (await createToken(a.app, { name: 'replicated', scopes: ['read'] })).json() as CreatedToken;
      const readOnB = () =>
        b.app.server.inject({ method: 'GET', url: '/v1/components', headers: bearer(created.token) });
      expect((await readOnB()).statusCode).toBe(200);
      const revokedAt = Date.now();
      expect(
        (await a.app.server.inject({ method: 'DELETE', url: `/v1/tokens/${created.id}`, headers: AUTH.admin }))
          .statusCode,
      ).toBe(204);
      let status = 200;
      while (status === 200 && Date.now() - revokedAt < 5_000) {
        status = (await readOnB()).statusCode;
        if (status === 200) await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe(401);
      expect(Date.now() - revokedAt).toBeLessThan(2_000);
    } finally {
      await a.cleanup();
      await b.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
