import type { DeploymentEngine } from '@nestor/sdk';
import type { EngineConfig } from '../config/config.js';
import type { EngineReader } from './interfaces.js';
import { engineFromConfig } from './registry.js';

export { engineFromConfig } from './registry.js';

/**
 * Engines exactly as configured, never probed (health `unknown`), for tools that judge components
 * without a running registry. The server uses `EngineRegistry`, which also sees API registrations,
 * discovery and health.
 */
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
