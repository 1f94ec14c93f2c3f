import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { makeComponent } from '../storage/testing.js';
import { CatalogIndex } from './catalog-index.js';

/** A memory store that counts full name listings. */
class CountingStore extends MemoryStore {
  listings = 0;
  override async listComponentNames(): Promise<string[]> {
    this.listings++;
    return super.listComponentNames();
  }
}

describe('CatalogIndex', () => {
  it('builds from the name list once, then follows created names through the log', async () => {
    const store = new CountingStore();
    const index = new CatalogIndex({ source: store });
    await store.createComponent(makeComponent({ name: 'orders-db' }));
    expect(await index.similarNames('orders_db', await store.headSequence())).toEqual(['orders-db']);
    await store.createComponent(makeComponent({ name: 'ordersdb' }));
    await store.updateComponent('orders-db', '1.0.0', { deprecated: { reason: 'old' } });
    expect(await index.similarNames('orders-db', await store.headSequence())).toEqual(['ordersdb']);
    expect(store.listings).toBe(1);
  });

  it('is built by warm before any validation asks, and not listed again', async () => {
    const store = new CountingStore();
    await store.createComponent(makeComponent({ name: 'billing-db' }));
    const index = new CatalogIndex({ source: store });
    await index.warm();
    expect(store.listings).toBe(1);
    await store.createComponent(makeComponent({ name: 'billingdb' }));
    expect(await index.similarNames('billing-db', await store.headSequence())).toEqual(['billingdb']);
    await index.warm();
    expect(store.listings).toBe(1);
  });

  it('rebuilds from the name list when the log was compacted past it', async () => {
    const store = new CountingStore();
    const index = new CatalogIndex({ source: store });
    await store.createComponent(makeComponent({ name: 'ledger-db' }));
    await index.similarNames('x', await store.headSequence());
    await store.createComponent(makeComponent({ name: 'ledgerdb' }));
    await store.compactEvents(await store.headSequence());
    await store.createComponent(makeComponent({ name: 'other-db' }));
    expect(await index.similarNames('ledger-db', await store.headSequence())).toEqual(['ledgerdb']);
    expect(store.listings).toBe(2);
  });
});
