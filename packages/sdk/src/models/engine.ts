/** Health of a deployment engine as the last probes judged it. */
export type EngineHealth = 'healthy' | 'unhealthy' | 'unknown';
export const ENGINE_TYPES = ['crossplane', 'pulumi', 'terraform', 'custom'] as const;
export type EngineType = (typeof ENGINE_TYPES)[number];

/** A deployment engine that components can name in `deployment_engines`. */
export interface DeploymentEngine {
  name: string;
  type: EngineType;
  /** Base URL probed for health; null means never probed (health stays `unknown`). */
  endpoint: string | null;
  health_path: string | null;
  health: EngineHealth;
  last_checked: string | null;
  last_latency_ms: number | null;
  consecutive_failures: number;
  message: string | null;
  labels: Record<string, string>;
  /** Where the engine came from: `config`, `api`, `dns`, `kubernetes`. */
  origin: string;
  /** Set when discovery no longer finds an engine it once found. */
  missing: boolean;
  interval_ms: number;
  timeout_ms: number;
  failure_threshold: number;
  success_threshold: number;
}
