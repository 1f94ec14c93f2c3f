import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../packages/orchestrator/src/main.js';
import { AUTH, component, testApp } from './helpers.js';

let app: App;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ app, cleanup } = await testApp());
});
afterAll(() => cleanup());

function post(url: string, payload: string) {
  return app.server.inject({
    method: 'POST',
    url,
    headers: { ...AUTH.write, 'content-type': 'application/json' },
    payload,
  });
}

describe('hostile JSON bodies', () => {
  const body = (extra: string) => JSON.stringify(component({ name: 'hostile-body' })).replace(/}$/, `,${extra}}`);

  it.each([
    ['deep nesting', `"annotations":${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'nests deeper than 64 levels'],
    [
      '100 000 keys',
      `"labels":{${Array.from({ length: 100_000 }, (_, i) => `"${i.toString(36)}":0`).join(',')}}`,
      'more than 1000 keys',
    ],
    ['a 200 000-character string', `"description":"${'x'.repeat(200_000)}"`, 'longer than 65536 characters'],
  ])('%s is a 400 invalid_request and nothing is stored', async (_name, extra, reason) => {
    for (const url of ['/v1/components', '/v1/validate']) {
      const res = await post(url, body(extra));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'invalid_request', detail: expect.stringContaining(reason) });
    }
    const read = await app.server.inject({ method: 'GET', url: '/v1/components/hostile-body' });
    expect(read.statusCode).toBe(404);
  });

  it('still takes an ordinary component', async () => {
    const res = await post('/v1/components', JSON.stringify(component({ name: 'ordinary-body' })));
    expect(res.statusCode).toBe(201);
  });
});
