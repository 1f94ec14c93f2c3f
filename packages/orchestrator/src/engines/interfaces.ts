import type { DeploymentEngine } from '@nestor/sdk';

/** Read side of the engine registry, as validation and the API need it. */
export interface EngineReader {
  listEngines(): Promise<DeploymentEngine[]>;
  /** Null when no engine has that name. */
  getEngine(name: string): Promise<DeploymentEngine | null>;
  /**
   * A number that changes whenever any engine's health or registration changes, so that cached
   * validation verdicts depending on engines can be keyed by it.
   */
  healthEpoch(): number;
}
