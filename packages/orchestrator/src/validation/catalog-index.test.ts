import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../storage/memory/memory-store.js';
import { makeComponent } from '../storage/testing.js';
import { CatalogIndex } from './catalog-index.js';
import { normalizeName } from './rules/common.js';

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

  it('answers every other name of a fold, sorted, whatever order they came in and however often', async () => {
    const store = new MemoryStore();
    const index = new CatalogIndex({ source: store });
    for (const name of ['pay-ments', 'payments', 'pay-ment-s', 'solo']) {
      await store.createComponent(makeComponent({ name }));
    }
    const head = await store.headSequence();
    expect(await index.similarNames('solo', head)).toEqual([]);
    expect(await index.similarNames('payments', head)).toEqual(['pay-ment-s', 'pay-ments']);
    expect(await index.similarNames('pay-ments', head)).toEqual(['pay-ment-s', 'payments']);
    expect(await index.similarNames('pay_ments', head)).toEqual(['pay-ment-s', 'pay-ments', 'payments']);
    expect(await index.similarNames('payment', head)).toEqual([]);
    // A name seen again (a replay of its creation) is listed once.
    index.onEvents([{ type: 'component.created', subject: { name: 'payments' } } as never]);
    expect(await index.similarNames('pay-ments', head)).toEqual(['pay-ment-s', 'payments']);
  });
});

describe('normalizeName', () => {
  it('folds case and every -, _ and . away, as a replace of them would', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'B', '-', '_', '.', '1', 'é', 'Z') }), (name) => {
        expect(normalizeName(name)).toBe(name.toLowerCase().replace(/[-_.]/g, ''));
      }),
    );
  });
});
