import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, testConfig } from '../../../../test/helpers.js';
import { type App, buildApp } from '../main.js';
import { runTokenCreate, runTokenList, runTokenRevoke, TOKEN_EXIT } from './token.js';

function io(env: Record<string, string | undefined> = {}) {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: (t: string) => {
        out.stdout += t;
      },
      stderr: (t: string) => {
        out.stderr += t;
      },
      env,
    },
  };
}

describe('nestor token create|list|revoke', () => {
  let app: App;
  let address: string;
  let dir: string;
  const admin = AUTH.admin.authorization.slice('Bearer '.length);
  beforeAll(async () => {
    const t = testConfig();
    dir = t.dir;
    app = await buildApp(t.config);
    address = await app.server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates (the token alone on stdout), lists and revokes through the API', async () => {
    const create = io({ NESTOR_TOKEN: admin, NESTOR_SERVER: address });
    const code = await runTokenCreate(
      'ci',
      { scope: ['write', 'provenance'], names: ['aws-*'], expiresIn: '30d' },
      create.io,
    );
    expect(code).toBe(TOKEN_EXIT.ok);
    const token = create.out.stdout.trim();
    expect(token).toMatch(/^nst_[0-9a-f]{16}_/);
    expect(create.out.stderr).toContain('created token ci');
    const id = token.slice(4, 20);

    const list = io({ NESTOR_TOKEN: admin });
    expect(await runTokenList({ server: address }, list.io)).toBe(0);
    expect(list.out.stdout).toMatch(new RegExp(`^${id}\\s+ci\\s+write\\+provenance\\s+aws-\\*`, 'm'));
    expect(list.out.stdout).not.toContain(token.slice(21));

    const json = io();
    expect(await runTokenList({ server: address, token: admin, format: 'json' }, json.io)).toBe(0);
    expect(JSON.parse(json.out.stdout).items[0]).toMatchObject({ id, name: 'ci', names: ['aws-*'] });

    const revoke = io();
    expect(await runTokenRevoke(id, { server: address, token: admin }, revoke.io)).toBe(0);
    const again = io();
    expect(await runTokenRevoke(id, { server: address, token: admin }, again.io)).toBe(TOKEN_EXIT.usage);
    expect(again.out.stderr).toContain('token_not_found');
  });

  it('usage errors exit 2, an unreachable server 3', async () => {
    const noScope = io();
    expect(await runTokenCreate('x', { server: address, token: admin }, noScope.io)).toBe(2);
    const refused = io();
    expect(await runTokenCreate('x', { server: address, token: 'wrong', scope: ['read'] }, refused.io)).toBe(2);
    expect(refused.out.stderr).toContain('unauthorized');
    const bad = io();
    expect(await runTokenCreate('x', { server: address, token: admin, scope: ['root'] }, bad.io)).toBe(2);
    expect(bad.out.stderr).toContain('invalid_request');
    const format = io();
    expect(await runTokenList({ server: address, token: admin, format: 'xml' }, format.io)).toBe(2);
    const down = io();
    expect(await runTokenList({ server: 'http://127.0.0.1:1', token: admin }, down.io)).toBe(3);
  });
});
