import { type ComponentDefinition, NestorError } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { StaticEngineReader } from '../engines/static-reader.js';
import { LocalChangeFeed } from '../events/change-feed.js';
import { silentLogger } from '../observability/logging/logger.js';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { makeComponent } from '../storage/testing.js';
import { createValidator } from '../validation/validator.js';
import { CatalogManager } from './manager.js';

/**
 * The manager's view of a store shared with another process that publishes the same version just
 * after the manager looked: the first read misses, the validator (reading the store itself) sees it.
 */
class LateStore extends MemoryStore {
  private missed = false;
  override async getComponent(name: string, version: string): Promise<ComponentDefinition | null> {
    if (!this.missed) {
      this.missed = true;
      return null;
    }
    return super.getComponent(name, version);
  }
}

describe('CatalogManager create racing another process', () => {
  it('answers 409 version_conflict, not 422, when the version appears between the check and validation', async () => {
    const store = new LateStore();
    const validator = createValidator({
      reader: store,
      engines: new StaticEngineReader([]),
      unhealthyEngine: 'error',
      cacheSize: 100,
    });
    const manager = new CatalogManager({ store, validator, feed: new LocalChangeFeed(), logger: silentLogger });
    const published = makeComponent({ deployment_engines: [] });
    await store.createComponent(published);
    const { digest: _digest, ...spec } = published;
    const err = await manager.createComponent({ ...spec, description: 'other content' }).catch((e: unknown) => e);
    expect(NestorError.is(err) && err.code).toBe('version_conflict');
    expect((err as NestorError).status).toBe(409);
    expect((err as NestorError).details).toMatchObject({ existing_digest: published.digest });
  });
});
