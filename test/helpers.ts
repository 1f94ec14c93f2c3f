import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComponentSpecInput } from '@nestor/sdk';
import { type App, buildApp, type Config, defaultConfig } from '../packages/orchestrator/src/main.js';
import type { CatalogStore } from '../packages/orchestrator/src/storage/interfaces.js';

export const TOKENS = { read: 'test-read-token', write: 'test-write-token', admin: 'test-admin-token' } as const;
export const AUTH = {
  read: { authorization: `Bearer ${TOKENS.read}` },
  write: { authorization: `Bearer ${TOKENS.write}` },
  admin: { authorization: `Bearer ${TOKENS.admin}` },
} as const;

/** A config for tests: memory store, no examples, silent logs, no rate limit, a temp data folder, three tokens. */
export function testConfig(mutate?: (c: Config) => void): { config: Config; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nestor-test-'));
  const config = defaultConfig();
  config.store.type = 'memory';
  config.data_dir = dir;
  config.store.path = join(dir, 'nestor.db');
  config.examples.enabled = false;
  config.log.level = 'silent';
  // Tests send hundreds of requests a second from one address; the rate-limit tests turn it on.
  config.limits.rate.max = 0;
  config.auth.tokens = [
    { name: 'reader', token: TOKENS.read, sha256: null, scopes: ['read'] },
    { name: 'writer', token: TOKENS.write, sha256: null, scopes: ['write'] },
    { name: 'admin', token: TOKENS.admin, sha256: null, scopes: ['admin'] },
  ];
  mutate?.(config);
  return { config, dir };
}

/** Builds an app for a test and returns it with a cleanup function. */
export async function testApp(
  mutate?: (c: Config) => void,
  store?: CatalogStore,
): Promise<{ app: App; cleanup: () => Promise<void> }> {
  const { config, dir } = testConfig(mutate);
  const app = await buildApp(config, store ? { store } : {});
  return {
    app,
    cleanup: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs a component through the API with a write token (the answer is checked by the caller). */
export function postComponent(app: App, body: ComponentSpecInput) {
  return app.server.inject({ method: 'POST', url: '/v1/components', headers: AUTH.write, payload: body });
}

/** A valid component body; override any field. */
export function component(overrides: Partial<ComponentSpecInput> & { name: string }): ComponentSpecInput {
  return {
    version: '1.0.0',
    description: `The ${overrides.name} component`,
    provider: 'aws',
    category: 'database',
    resource_type: 'postgresql',
    required_inputs: [{ name: 'instance_class', type: 'string', description: 'Instance size' }],
    optional_inputs: [{ name: 'storage_gb', type: 'integer', description: 'Disk size', default: 20 }],
    outputs: [{ name: 'endpoint', type: 'string', description: 'Host name' }],
    labels: { team: 'platform' },
    ...overrides,
  };
}

let counter = 0;
/** A name unique within the test run. */
export function uniqueName(prefix = 'comp'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
