import type { ComponentDefinition, DeploymentEngine } from '@nestor/sdk';
import type { EngineReader } from '../engines/interfaces.js';
import type { ComponentVersioning, EventLog } from '../storage/interfaces.js';
import { CatalogIndex } from './catalog-index.js';
import type { CatalogSnapshot, CatalogState, CatalogView } from './interfaces.js';

/** What validation reads of the store. Every backend's `CatalogStore` is one. */
export type ValidationStore = ComponentVersioning & Pick<EventLog, 'headSequence' | 'readEvents'>;

export interface StoreCatalogStateOptions {
  store: ValidationStore;
  engines: EngineReader;
}

/**
 * The catalog state as the store and the engine registry hold it. The stamp is the catalog
 * revision (every component write appends an event) plus the engines' health epoch, which is all
 * a state rule can read.
 */
export class StoreCatalogState implements CatalogState {
  private readonly store: ValidationStore;
  private readonly engines: EngineReader;
  private readonly index: CatalogIndex;

  constructor(opts: StoreCatalogStateOptions) {
    this.store = opts.store;
    this.engines = opts.engines;
    this.index = new CatalogIndex({ source: opts.store });
  }

  async snapshot(): Promise<CatalogSnapshot> {
    const epoch = this.engines.healthEpoch();
    const head = await this.store.headSequence();
    return { stamp: `${head}/${epoch}`, view: this.view(head) };
  }

  private view(head: number): CatalogView {
    const versions = new Map<string, Promise<readonly ComponentDefinition[]>>();
    const engines = new Map<string, Promise<DeploymentEngine | null>>();
    return {
      versions: (name) => memo(versions, name, () => this.index.versions(name, head)),
      engine: (name) => memo(engines, name, () => this.engines.getEngine(name)),
      similarNames: (name) => this.index.similarNames(name, head),
    };
  }
}

function memo<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let found = cache.get(key);
  if (!found) {
    found = load();
    cache.set(key, found);
  }
  return found;
}
