import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, component, postComponent, TOKENS, testApp, uniqueName } from '../../../../test/helpers.js';
import type { App } from '../main.js';
import { LIFECYCLE_EXIT, type LifecycleAction, runLifecycle } from './lifecycle.js';

let app: App;
let cleanup: () => Promise<void>;
let server: string;

beforeAll(async () => {
  ({ app, cleanup } = await testApp());
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  server = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await cleanup();
});

async function cli(action: LifecycleAction, name: string, version: string, flags: Record<string, unknown> = {}) {
  let out = '';
  let err = '';
  const code = await runLifecycle(
    action,
    name,
    version,
    { server, ...flags },
    { stdout: (t) => (out += t), stderr: (t) => (err += t), env: { NESTOR_TOKEN: TOKENS.admin } },
  );
  return { code, out, err };
}

describe('nestor revoke|delete|restore', () => {
  it('revokes, deletes and restores with exit 0, and reports refusals with exit codes 1 and 2', async () => {
    const base = uniqueName('cli');
    const user = uniqueName('cli-user');
    expect((await postComponent(app, component({ name: base }))).statusCode).toBe(201);
    const dep = component({ name: user, dependencies: [{ name: base, version_range: '^1.0.0' }] });
    expect((await postComponent(app, dep)).statusCode).toBe(201);

    expect(await cli('revoke', base, '1.0.0')).toMatchObject({ code: LIFECYCLE_EXIT.usage });
    const revoked = await cli('revoke', base, '1.0.0', { reason: 'CVE' });
    expect(revoked.code, revoked.err).toBe(0);
    expect(revoked.out).toContain(`${base}@1.0.0: revoked (CVE)`);
    expect((await cli('restore', base, '1.0.0')).code).toBe(0);

    const refused = await cli('delete', base, '1.0.0');
    expect(refused.code).toBe(LIFECYCLE_EXIT.refused);
    expect(refused.err).toContain('has_dependents');
    expect(refused.err).toContain(`needed by ${user}@1.0.0 (^1.0.0)`);

    expect((await cli('delete', user, '1.0.0', { reason: 'retired', json: true })).code).toBe(0);
    expect((await cli('delete', user, '1.0.0')).err).toContain('component_deleted');
    const get = await app.server.inject({
      method: 'GET',
      url: `/v1/components/${user}/versions/1.0.0`,
      headers: AUTH.read,
    });
    expect(get.statusCode).toBe(410);

    const forbidden = await runLifecycle(
      'restore',
      user,
      '1.0.0',
      { server },
      {
        stdout: () => {},
        stderr: () => {},
        env: { NESTOR_TOKEN: TOKENS.write },
      },
    );
    expect(forbidden).toBe(LIFECYCLE_EXIT.usage);
    expect((await cli('restore', uniqueName('none'), '1.0.0')).code).toBe(LIFECYCLE_EXIT.refused);
    expect((await cli('restore', user, '1.0.0', { server: 'http://127.0.0.1:1' })).code).toBe(
      LIFECYCLE_EXIT.serverUnreachable,
    );
  });
});
