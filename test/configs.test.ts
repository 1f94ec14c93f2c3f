import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../packages/orchestrator/src/config/load.js';
import { buildApp } from '../packages/orchestrator/src/main.js';

const CONFIGS = fileURLToPath(new URL('../configs/', import.meta.url));

/** Lines that set a key and have no comment, neither at their end nor on the line above. */
function uncommentedKeys(text: string): string[] {
  const lines = text.split('\n');
  const missing: string[] = [];
  let previous = '';
  for (const line of lines) {
    // Leaf keys only: a section header (`cache:`) is described by its keys' comments.
    const key = /^\s*(?:- )?([a-z_]+):\s*\S/.exec(line);
    if (key && !line.includes(' # ') && !previous.trimStart().startsWith('#')) {
      missing.push(line.trim());
    }
    if (line.trim() !== '') previous = line;
  }
  return missing;
}

describe('configs/', () => {
  const files = readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml'));

  it('holds the laptop, PostgreSQL and AWS configurations', () => {
    expect(files.sort()).toEqual(['aws.yaml', 'laptop.yaml', 'production-postgres.yaml']);
  });

  it('laptop.yaml loads: SQLite under ./data, the examples, loopback', () => {
    const config = loadConfig({ config: join(CONFIGS, 'laptop.yaml') }, {});
    expect(config.store).toMatchObject({ type: 'sqlite', path: './data/nestor.db' });
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.examples.enabled).toBe(true);
    expect(config.engines.map((e) => e.name)).toEqual(['terraform', 'pulumi', 'crossplane']);
  });

  it('laptop.yaml serves every example without a failed file', async () => {
    const config = loadConfig({ config: join(CONFIGS, 'laptop.yaml'), store: 'memory' }, {});
    config.examples.path = fileURLToPath(new URL('../examples', import.meta.url));
    config.log.level = 'silent';
    const app = await buildApp(config);
    try {
      const report = await app.sources.sync('examples');
      expect(report.errors).toEqual([]);
      expect(report.counts).toMatchObject({ failed: 0, conflicts: 0, created: report.counts.files });
    } finally {
      await app.close();
    }
  });

  it('aws.yaml loads: DynamoDB with a region, TLS Redis, secrets only named', () => {
    const config = loadConfig({ config: join(CONFIGS, 'aws.yaml') }, {});
    expect(config.store).toMatchObject({
      type: 'dynamodb',
      table: 'nestor-catalog',
      region: 'eu-west-1',
      endpoint: null,
    });
    expect(config.cache.redis_url).toMatch(/^rediss:\/\//);
    expect(config.cache.redis_password_env).toBe('NESTOR_REDIS_PASSWORD');
    expect(config.auth.anonymous_read).toBe(false);
    expect(config.discovery.kubernetes).toMatchObject({ enabled: true, namespace: 'platform-engines' });
  });

  it('production-postgres.yaml loads', () => {
    const config = loadConfig({ config: join(CONFIGS, 'production-postgres.yaml') }, {});
    expect(config.store).toMatchObject({ type: 'postgres', schema: 'nestor', pool_size: 20 });
    expect(config.store.url).toMatch(/^postgres:\/\/nestor@/);
    expect(config.auth.anonymous_read).toBe(false);
    expect(config.sources.map((s) => s.name)).toEqual(['platform']);
    expect(config.engines[0]).toMatchObject({ name: 'terraform', endpoint: 'https://terraform-runner.internal' });
  });

  it.each(['laptop.yaml', 'production-postgres.yaml', 'aws.yaml'])('%s comments every key', (file) => {
    expect(uncommentedKeys(readFileSync(join(CONFIGS, file), 'utf8'))).toEqual([]);
  });
});
