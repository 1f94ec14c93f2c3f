import { describe, expect, it } from 'vitest';
import { defaultConfig } from './config.js';
import { decodeConfig, loadConfig } from './load.js';

describe('limits and the request timeout in config', () => {
  it('default to the settled values (DESIGN.md 10.10)', () => {
    const c = defaultConfig();
    expect(c.limits).toEqual({
      sse: { max_streams: 10_000, per_client: 50 },
      rate: { max: 600, window_ms: 60_000 },
      validate_batch: 100,
      dependencies: 100,
    });
    expect(c.server.request_timeout_ms).toBe(30_000);
  });

  it('read from a file, with durations', () => {
    const c = decodeConfig({
      server: { request_timeout: '5s' },
      limits: { rate: { max: 0, window: '10s' }, validate_batch: 20, dependencies: 8 },
    });
    expect(c.server.request_timeout_ms).toBe(5_000);
    expect(c.limits).toEqual({
      sse: { max_streams: 10_000, per_client: 50 },
      rate: { max: 0, window_ms: 10_000 },
      validate_batch: 20,
      dependencies: 8,
    });
  });

  it('read from the environment', () => {
    const c = loadConfig({}, { NESTOR_LIMITS: '{"rate":{"max":5}}', NESTOR_SERVER_REQUEST_TIMEOUT: '2s' });
    expect(c.limits.rate).toEqual({ max: 5, window_ms: 60_000 });
    expect(c.server.request_timeout_ms).toBe(2_000);
    expect(loadConfig({}, { NESTOR_LIMITS_VALIDATE_BATCH: '7' }).limits.validate_batch).toBe(7);
  });

  it.each([
    [{ limits: { rate: { max: -1 } } }, /limits\.rate\.max must be an integer/],
    [{ limits: { rate: { window: '0s' } } }, /limits\.rate\.window must be from 1000 ms/],
    [{ limits: { rate: { burst: 3 } } }, /unknown config key "limits\.rate\.burst"/],
    [{ limits: { validate_batch: 0 } }, /limits\.validate_batch must be an integer from 1/],
    [{ limits: { dependencies: 'many' } }, /limits\.dependencies must be an integer/],
    [{ limits: { sizes: 1 } }, /unknown config key "limits\.sizes"/],
    [{ server: { request_timeout: '1ms' } }, /server\.request_timeout must be from 100 ms/],
  ])('refuses %j naming the key', (raw, message) => {
    expect(() => decodeConfig(raw)).toThrow(message);
  });
});
