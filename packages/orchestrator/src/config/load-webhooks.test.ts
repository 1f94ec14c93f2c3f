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
