import type { ComponentSpec, ComponentSpecInput, DeploymentEngine, EngineHealth } from '@nestor/sdk';
import { computeDigest, contentOf } from '@nestor/sdk';
import type { EngineReader } from '../engines/interfaces.js';
import { makeComponent, makeEngine } from '../storage/testing.js';
import { StoreCatalogState, type ValidationStore } from './catalog-state.js';
import type { ContentContext, StateContext } from './interfaces.js';

/**
 * Helpers for validation tests, beside the code (as `storage/testing.ts` is) so that other
 * packages' tests can use them too.
 */

/** An engine registry held in memory whose health epoch moves on every change. */
export class TestEngines implements EngineReader {
  private readonly engines = new Map<string, DeploymentEngine>();
  private epoch = 0;

  /** Registers (or replaces) an engine with the given health. */
  put(name: string, health: EngineHealth = 'healthy', overrides: Partial<DeploymentEngine> = {}): void {
    this.engines.set(name, makeEngine({ name, health, ...overrides }));
    this.epoch += 1;
  }

  async listEngines(): Promise<DeploymentEngine[]> {
    return [...this.engines.values()];
  }

  async getEngine(name: string): Promise<DeploymentEngine | null> {
    return this.engines.get(name) ?? null;
  }

  healthEpoch(): number {
    return this.epoch;
  }
}

/** A normalised spec (no digest) built like `makeComponent`. */
export function makeSpec(overrides: Partial<ComponentSpecInput> = {}): ComponentSpec {
  const { digest: _digest, ...spec } = makeComponent(overrides);
  return spec;
}

/** The context a content rule gets for `spec`. */
export function contentContext(spec: ComponentSpec): ContentContext {
  return { content: contentOf(spec), digest: computeDigest(spec) };
}

/** The context a state rule gets for `spec` against a store and engines. */
export async function stateContext(
  spec: ComponentSpec,
  store: ValidationStore,
  engines: EngineReader = new TestEngines(),
): Promise<StateContext> {
  const { view } = await new StoreCatalogState({ store, engines }).snapshot();
  return { spec, digest: computeDigest(spec), catalog: view };
}
