import type { DeploymentEngine, EngineHealth } from '@nestor/sdk';
import type { EngineConfig } from '../config/config.js';
import type { AuditEntry } from '../storage/interfaces.js';

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

/** Where an engine came from. Only `api` engines are meant to be removed over the API. */
export type EngineOrigin = 'config' | 'api' | 'dns' | 'kubernetes';

/** The admin side: registrations over `POST /v1/engines` and `DELETE /v1/engines/{name}`. */
export interface EngineRegistrar {
  /**
   * Registers an engine with origin `api` (health `unknown` until probed) and persists it.
   * Throws `engine_conflict` when an engine with that name exists, whatever its origin, and
   * `invalid_request` when the endpoint policy refuses the endpoint (the reason in the message).
   * `audit` is written in the same atomic write as the engine and its `engine.registered` event.
   */
  register(engine: EngineConfig, audit?: AuditEntry): Promise<DeploymentEngine>;
  /**
   * Removes an engine of any origin, with `audit` in the same atomic write as the deletion and its
   * `engine.removed` event. True when that write was made (and so carried `audit`); false when the
   * engine was known only to this replica, so nothing was stored. Throws `engine_not_found` when
   * there is none by that name.
   */
  deregister(name: string, audit?: AuditEntry): Promise<boolean>;
}

/** Why a probe failed, as a stable label for metrics and the probe history. */
export type ProbeFailure = 'timeout' | 'connection' | 'status' | 'redirect' | 'protocol' | 'refused';

/** One probe of one engine. */
export interface ProbeResult {
  /** When the probe started (ISO 8601). */
  at: string;
  ok: boolean;
  /** HTTP status when a response arrived. */
  status: number | null;
  latency_ms: number;
  /** Null when the probe succeeded. */
  failure: ProbeFailure | null;
  message: string;
}

/** An engine as `GET /v1/engines/{name}` shows it: with its recent probes, oldest first. */
export interface EngineDetail extends DeploymentEngine {
  history: ProbeResult[];
}

/** The health state an engine moves to after a probe, as the thresholds decide it. */
export interface HealthVerdict {
  health: EngineHealth;
  consecutive_failures: number;
  consecutive_successes: number;
}

/** Runs the probes. One schedule per probed engine; never two probes of one engine at once. */
export interface HealthChecker {
  /** Schedules every engine with an endpoint and follows registrations from then on. */
  start(): void;
  /** Cancels every schedule and waits for probes in flight to finish (they are bounded by their timeout). */
  stop(): Promise<void>;
  /**
   * Probes one engine now (or joins the probe already in flight) and records the result.
   * Null when the engine is unknown, has no endpoint or is missing.
   */
  probeNow(name: string): Promise<ProbeResult | null>;
}

/** One way of finding engines (DNS SRV records, Kubernetes Services, the config file). */
export interface Discovery {
  readonly origin: EngineOrigin;
  /**
   * Every engine this source knows right now. An empty list means "none exist" (engines it found
   * before are then marked missing). Throws (`service_unavailable` or `timeout`) when the source
   * could not be asked, in which case nothing is marked.
   */
  discover(): Promise<EngineConfig[]>;
}

/** What the health checker needs from the registry: the engines to probe and a place to record results. */
export interface ProbeTargets {
  /** Engines as this replica currently knows them (no I/O). */
  snapshot(): DeploymentEngine[];
  /** Calls `listener` after any registration or deregistration; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /**
   * Records a probe and the verdict the thresholds reached. A change of health persists the engine,
   * appends `engine.health_changed` and moves the health epoch. Ignores names no longer registered.
   */
  recordProbe(name: string, result: ProbeResult, verdict: HealthVerdict): Promise<void>;
}

/**
 * Decides which replica does the engine work (probes, discovery) when several share a store, so
 * that one health change yields one event. `isLeader` never throws: trouble means "not leader".
 */
export interface Leadership {
  isLeader(): Promise<boolean>;
  /** Gives the lead up (on shutdown) so another replica takes over without waiting for expiry. */
  release(): Promise<void>;
}
