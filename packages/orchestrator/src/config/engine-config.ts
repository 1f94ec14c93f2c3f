import { ENGINE_TYPES } from '@nestor/sdk';
import { type Static, Type } from '@sinclair/typebox';
import { checkConfig, configError, keyPath, timerMs } from './check.js';
import type { EngineConfig } from './config.js';
import { Duration, Int, NonEmpty, OneOf, Section, StringMap } from './fields.js';

const MAX_URL_LENGTH = 2048;
const MIN_PROBE_INTERVAL_MS = 1_000;
const MIN_PROBE_TIMEOUT_MS = 100;

/** One engine, as written in the config file and sent to `POST /v1/engines`. */
export const EngineSchema = Section(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$',
      description: 'lowercase letters, digits and - (at most 63)',
    }),
    type: Type.Optional(OneOf(ENGINE_TYPES, 'Engine type; `custom` when absent')),
    endpoint: Type.Optional(
      NonEmpty({ maxLength: MAX_URL_LENGTH, description: 'http(s) URL probed for health; absent: never probed' }),
    ),
    health_path: Type.Optional(NonEmpty({ maxLength: MAX_URL_LENGTH, description: 'Path probed under the endpoint' })),
    interval: Type.Optional(Duration()),
    timeout: Type.Optional(Duration()),
    failure_threshold: Type.Optional(Int(1, 100, 'Failed probes before the engine is unhealthy')),
    success_threshold: Type.Optional(Int(1, 100, 'Passing probes before the engine is healthy again')),
    labels: Type.Optional(StringMap('Free-form labels')),
  },
  'An engine: `name` is required; a null value counts as absent',
);
type EngineInput = Static<typeof EngineSchema>;

/**
 * Decodes one engine (config item or `POST /v1/engines` body); errors name the key under `at`
 * (`engines[0].interval`, `body.endpoint`).
 */
export function decodeEngine(value: unknown, at: string): EngineConfig {
  const e = checkConfig<EngineInput>(EngineSchema, value, at);
  const key = (k: string) => keyPath(at, k);
  if (e.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(e.endpoint);
    } catch {
      throw configError(`${key('endpoint')} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw configError(`${key('endpoint')} must be http or https`);
  }
  const d = defaultEngineConfig(e.name);
  return {
    name: e.name,
    type: e.type ?? d.type,
    endpoint: e.endpoint ?? null,
    health_path: e.health_path ?? null,
    // Probes more often than once a second, or with a timeout too short to be met, only make load.
    interval_ms: timerMs(e.interval, key('interval'), MIN_PROBE_INTERVAL_MS) ?? d.interval_ms,
    timeout_ms: timerMs(e.timeout, key('timeout'), MIN_PROBE_TIMEOUT_MS) ?? d.timeout_ms,
    failure_threshold: e.failure_threshold ?? d.failure_threshold,
    success_threshold: e.success_threshold ?? d.success_threshold,
    labels: e.labels ?? d.labels,
  };
}

/** An engine known only by name: no endpoint (never probed), default timings. */
export function defaultEngineConfig(name: string): EngineConfig {
  return {
    name,
    type: 'custom',
    endpoint: null,
    health_path: null,
    interval_ms: 10_000,
    timeout_ms: 2_000,
    failure_threshold: 3,
    success_threshold: 1,
    labels: {},
  };
}
