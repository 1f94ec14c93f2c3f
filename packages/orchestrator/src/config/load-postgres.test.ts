import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

describe('store configuration for PostgreSQL', () => {
  it('reads url, schema, pool size and timeouts from NESTOR_STORE_* and --store postgres', () => {
    const config = loadConfig(
      { store: 'postgres', examples: false },
      {
        NESTOR_STORE_URL: 'postgres://nestor@db:5432/catalog',
        NESTOR_STORE_SCHEMA: 'prod_catalog',
        NESTOR_STORE_POOL_SIZE: '25',
        NESTOR_STORE_STATEMENT_TIMEOUT: '5s',
        NESTOR_STORE_CONNECT_TIMEOUT: '1m',
      },
    );
    expect(config.store).toMatchObject({
      type: 'postgres',
      url: 'postgres://nestor@db:5432/catalog',
      schema: 'prod_catalog',
      pool_size: 25,
      statement_timeout_ms: 5000,
      connect_timeout_ms: 60_000,
    });
  });

  it('defaults: schema nestor, 10 connections, 30 s statement and connect timeouts', () => {
    const config = loadConfig({ store: 'postgres' }, { NESTOR_STORE_URL: 'postgres://db/x' });
    expect(config.store).toMatchObject({
      schema: 'nestor',
      pool_size: 10,
      statement_timeout_ms: 30_000,
      connect_timeout_ms: 30_000,
    });
  });

  it('refuses a missing url and a schema that is not a plain identifier', () => {
    expect(() => loadConfig({ store: 'postgres' }, {})).toThrow(/store.url \(NESTOR_STORE_URL\) is required/);
    expect(() =>
      loadConfig({ store: 'postgres' }, { NESTOR_STORE_URL: 'postgres://db/x', NESTOR_STORE_SCHEMA: 'a;drop' }),
    ).toThrow(/store.schema must be/);
  });
});
