import type { DeploymentEngine } from '@nestor/sdk';
import type { EngineConfig } from '../config/config.js';
import type { EngineReader } from './interfaces.js';

/** Engines exactly as configured, never probed (health `unknown`): used where no registry runs. */
export class StaticEngineReader implements EngineReader {
  private readonly engines: Map<string, DeploymentEngine>;

  constructor(configs: EngineConfig[]) {
    this.engines = new Map(configs.map((c) => [c.name, engineFromConfig(c, 'config')]));
  }

  async listEngines(): Promise<DeploymentEngine[]> {
    return [...this.engines.values()];
  }

  async getEngine(name: string): Promise<DeploymentEngine | null> {
    return this.engines.get(name) ?? null;
  }

  healthEpoch(): number {
    return 0;
  }
}

/** A configured engine before any probe has run. */
export function engineFromConfig(c: EngineConfig, origin: string): DeploymentEngine {
  return {
    name: c.name,
    type: c.type,
    endpoint: c.endpoint,
    health_path: c.health_path,
    health: 'unknown',
    last_checked: null,
    last_latency_ms: null,
    consecutive_failures: 0,
    message: c.endpoint ? 'not probed yet' : 'no endpoint configured; never probed',
    labels: c.labels,
    origin,
    missing: false,
    interval_ms: c.interval_ms,
    timeout_ms: c.timeout_ms,
    failure_threshold: c.failure_threshold,
    success_threshold: c.success_threshold,
  };
}
