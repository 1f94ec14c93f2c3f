import type { ComponentDefinition, DeploymentEngine } from '@nestor/sdk';
import type { EngineReader } from '../engines/interfaces.js';
import type { ComponentVersioning, EventLog } from '../storage/interfaces.js';
import { CatalogIndex } from './catalog-index.js';
import type { CatalogSnapshot, CatalogState, CatalogView } from './interfaces.js';

/** What validation reads of the store. Every backend's `CatalogStore` is one. */
export type ValidationStore = ComponentVersioning & Pick<EventLog, 'headSequence' | 'readEvents'>;

/** The revision a validation judges at. */
export interface ValidationRevision {
  /**
   * Resolves with a revision at least the log's head as of the call, once reads through the
   * store reflect every event up to it (other processes' writes included).
   */
  settle(): Promise<number>;
}

export interface StoreCatalogStateOptions {
  /** Where versions and names are read: the store cache in a server, so there is one cache. */
  store: ValidationStore;
  engines: EngineReader;
  /**
   * What the stamp is. Omit when `store` is not cached: the log's head then describes every read.
   * A cached store needs its own (the cache invalidator's), since a cache learns of another
   * process's write only through the log and could pair old versions with a new head.
   */
  revision?: ValidationRevision | undefined;
}

/**
 * The catalog state as the store and the engine registry hold it. The stamp is the catalog
 * revision (every component write appends an event) plus the engines' health epoch, which is all
 * a state rule can read; every read of the view reflects at least the events up to that revision.
 */
export class StoreCatalogState implements CatalogState {
  private readonly store: ValidationStore;
  private readonly engines: EngineReader;
  private readonly index: CatalogIndex;
  private readonly revision: ValidationRevision;

  constructor(opts: StoreCatalogStateOptions) {
    this.store = opts.store;
    this.engines = opts.engines;
    this.index = new CatalogIndex({ source: opts.store });
    this.revision = opts.revision ?? { settle: () => opts.store.headSequence() };
  }

  warm(): Promise<void> {
    return this.index.warm();
  }

  async snapshot(): Promise<CatalogSnapshot> {
    const epoch = this.engines.healthEpoch();
    const head = await this.revision.settle();
    return { stamp: `${head}/${epoch}`, view: this.view(head) };
  }

  private view(head: number): CatalogView {
    const versions = new Map<string, Promise<readonly ComponentDefinition[]>>();
    const engines = new Map<string, Promise<DeploymentEngine | null>>();
    return {
      versions: (name) => memo(versions, name, () => this.store.getComponentVersions(name)),
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
