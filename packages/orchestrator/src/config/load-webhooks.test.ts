import { describe, expect, it } from 'vitest';
import { decodeConfig, loadConfig } from './load.js';

describe('webhooks.body_limit', () => {
  it('defaults to 1 MiB, apart from server.body_limit', () => {
    const c = decodeConfig({ server: { body_limit: 8 * 1024 * 1024 } });
    expect(c.webhooks.body_limit).toBe(1_048_576);
    expect(c.server.body_limit).toBe(8 * 1024 * 1024);
  });

  it('is read from the file and from NESTOR_WEBHOOKS_BODY_LIMIT', () => {
    expect(decodeConfig({ webhooks: { body_limit: 65_536 } }).webhooks.body_limit).toBe(65_536);
    expect(loadConfig({}, { NESTOR_WEBHOOKS_BODY_LIMIT: '2097152' }).webhooks.body_limit).toBe(2_097_152);
  });

  it('refuses values out of range and unknown keys, naming the key', () => {
    expect(() => decodeConfig({ webhooks: { body_limit: 10 } })).toThrow(/webhooks\.body_limit must be an integer/);
    expect(() => decodeConfig({ webhooks: { body_limit: '1MB' } })).toThrow(/webhooks\.body_limit/);
    expect(() => decodeConfig({ webhooks: { bodylimit: 1024 } })).toThrow(/unknown config key "webhooks\.bodylimit"/);
  });
});

describe('webhooks: outgoing delivery settings', () => {
  it('defaults to no allowed hosts, 10 s attempts and 24 h of retries', () => {
    expect(decodeConfig({}).webhooks).toMatchObject({ allow_hosts: [], timeout_ms: 10_000, retry_for_ms: 86_400_000 });
  });

  it('reads the file and NESTOR_WEBHOOKS_* (allow_hosts comma-separated)', () => {
    const c = decodeConfig({ webhooks: { allow_hosts: ['127.0.0.1', '[::1]'], timeout: '2s', retry_for: '1h' } });
    expect(c.webhooks).toMatchObject({
      allow_hosts: ['127.0.0.1', '[::1]'],
      timeout_ms: 2_000,
      retry_for_ms: 3_600_000,
    });
    const e = loadConfig(
      {},
      { NESTOR_WEBHOOKS_ALLOW_HOSTS: 'hooks.internal, 10.0.0.5', NESTOR_WEBHOOKS_TIMEOUT: '5s' },
    );
    expect(e.webhooks).toMatchObject({ allow_hosts: ['hooks.internal', '10.0.0.5'], timeout_ms: 5_000 });
  });

  it('refuses hosts with a scheme, port or wildcard, and timings out of range, naming the key', () => {
    for (const host of ['http://a.example', 'a.example:8080', '*.example.com', 'a/b', '']) {
      expect(() => decodeConfig({ webhooks: { allow_hosts: [host] } })).toThrow(/webhooks\.allow_hosts/);
    }
    expect(() => decodeConfig({ webhooks: { timeout: '10ms' } })).toThrow(/webhooks\.timeout/);
    expect(() => decodeConfig({ webhooks: { retry_for: '10s' } })).toThrow(/webhooks\.retry_for must be from 1 minute/);
    expect(() => decodeConfig({ webhooks: { retry_for: '30d' } })).toThrow(/webhooks\.retry_for/);
  });
});
