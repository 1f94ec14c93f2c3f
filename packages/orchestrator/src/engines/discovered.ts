import { ENGINE_TYPES, type EngineType } from '@nestor/sdk';

/** Probe settings given to discovered engines, which carry none of their own. */
export interface DiscoveredDefaults {
  interval_ms: number;
  timeout_ms: number;
  failure_threshold: number;
  success_threshold: number;
}

export const DISCOVERED_DEFAULTS: DiscoveredDefaults = {
  interval_ms: 10_000,
  timeout_ms: 2_000,
  failure_threshold: 3,
  success_threshold: 1,
};

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** A valid engine name from a host label or Service name, or null. */
export function engineName(raw: string): string | null {
  const name = raw.toLowerCase().slice(0, 63).replace(/-+$/, '');
  return NAME.test(name) ? name : null;
}

export function typeFromName(name: string): EngineType {
  return ENGINE_TYPES.find((t) => t !== 'custom' && name.includes(t)) ?? 'custom';
}
