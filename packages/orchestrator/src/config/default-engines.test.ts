import { describe, expect, it } from 'vitest';
import { buildApp } from '../main.js';
import { defaultConfig } from './config.js';
import { decodeConfig } from './load.js';

describe('default engines (DESIGN 10.10)', () => {
  it('a config without engines knows terraform, pulumi and crossplane, without endpoints', () => {
    const engines = decodeConfig({}).engines;
    expect(engines.map((e) => [e.name, e.type, e.endpoint])).toEqual([
      ['terraform', 'terraform', null],
      ['pulumi', 'pulumi', null],
      ['crossplane', 'crossplane', null],
    ]);
  });

  it('a configured list replaces them, an empty one included', () => {
    expect(decodeConfig({ engines: [{ name: 'ansible' }] }).engines.map((e) => e.name)).toEqual(['ansible']);
    expect(decodeConfig({ engines: [] }).engines).toEqual([]);
  });

  it('a fresh server lists them with health unknown and accepts a component naming one, with a warning', async () => {
    const config = defaultConfig();
    config.store.type = 'memory';
    config.examples.enabled = false;
    config.log.level = 'silent';
    const app = await buildApp(config);
    try {
      const list = await app.server.inject({ method: 'GET', url: '/v1/engines' });
      const items = (list.json() as { items: { name: string; health: string }[] }).items;
      expect(items.map((e) => [e.name, e.health]).sort()).toEqual([
        ['crossplane', 'unknown'],
        ['pulumi', 'unknown'],
        ['terraform', 'unknown'],
      ]);
      const res = await app.server.inject({
        method: 'POST',
        url: '/v1/validate',
        payload: {
          name: 'x',
          version: '1.0.0',
          provider: 'aws',
          category: 'c',
          resource_type: 'r',
          deployment_engines: ['pulumi'],
        },
      });
      const result = res.json() as { valid: boolean; warnings: { code: string }[] };
      expect(result.valid).toBe(true);
      expect(result.warnings.map((w) => w.code)).toContain('engine_health_unknown');
    } finally {
      await app.close();
    }
  });
});
