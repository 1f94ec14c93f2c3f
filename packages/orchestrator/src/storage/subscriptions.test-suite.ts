import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditId } from './audit-records.js';
import type { AuditEntry, CatalogStore, DeliveryRecord, StoredSubscription } from './interfaces.js';

/**
 * The webhook part of the store contract (DESIGN.md 10.6), run by `describeStoreContract` for every
 * store: subscriptions, their delivery positions and bounded delivery logs.
 */
export function describeSubscriptionContract(current: () => CatalogStore): void {
  describe('webhook subscriptions', () => {
    let seq = 0;
    const subscription = (over: Partial<StoredSubscription> = {}): StoredSubscription => ({
      id: randomBytes(8).toString('hex'),
      url: 'https://hooks.example.com/nestor',
      types: ['component.created'],
      filter: { name: null, provider: 'aws', category: null },
      secret: `whsec_${randomBytes(24).toString('base64')}`,
      created_at: '2026-01-01T00:00:00.000Z',
      state: 'active',
      disabled_reason: null,
      position: 7,
      ...over,
    });
    const entry = (action: string, subject: string): AuditEntry => {
      seq += 1;
      const time = new Date(Date.UTC(2026, 0, 1, 0, 0, seq));
      return {
        id: auditId(time),
        time: time.toISOString(),
        actor: 'token:admin',
        action,
        subject,
        request_id: null,
        ip: null,
        outcome: 'ok',
        details: {},
      };
    };
    const delivery = (event_id: number, over: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
      event_id,
      attempt: 1,
      status: 'delivered',
      response_status: 204,
      time: '2026-01-02T00:00:00.000Z',
      ...over,
    });

    it('stores, reads, lists oldest first and deletes subscriptions, each write with its audit entry', async () => {
      const store = current();
      const a = subscription({ created_at: '2026-01-02T00:00:00.000Z', types: [] });
      const b = subscription({ filter: { name: 'vpc', provider: null, category: 'network' } });
      const created = entry('subscription.create', a.id);
      await store.createSubscription(a, created);
      await store.createSubscription(b);
      expect(await store.getSubscription(a.id)).toEqual(a);
      expect(await store.getSubscription('0000000000000000')).toBeNull();
      expect(await store.listSubscriptions()).toEqual([b, a]);
      const deleted = entry('subscription.delete', a.id);
      expect(await store.deleteSubscription(a.id, deleted)).toBe(true);
      expect(await store.deleteSubscription(a.id, entry('subscription.delete', a.id))).toBe(false);
      expect(await store.getSubscription(a.id)).toBeNull();
      expect(await store.listSubscriptions()).toEqual([b]);
      const audit = (await store.listAudit({ limit: 10, action: 'subscription.create' })).items;
      expect(audit).toEqual([created]);
      expect((await store.listAudit({ limit: 10, action: 'subscription.delete' })).items).toEqual([deleted]);
    });

    it('advances the delivery position, never backwards', async () => {
      const store = current();
      const s = subscription({ position: 10 });
      await store.createSubscription(s);
      await store.advanceSubscription(s.id, 15);
      expect((await store.getSubscription(s.id))?.position).toBe(15);
      await store.advanceSubscription(s.id, 12);
      expect((await store.getSubscription(s.id))?.position).toBe(15);
      await expect(store.advanceSubscription('ffffffffffffffff', 3)).resolves.toBeUndefined();
      expect(await store.getSubscription('ffffffffffffffff')).toBeNull();
    });

    it('disables an active subscription once, with its reason and audit entry', async () => {
      const store = current();
      const s = subscription();
      await store.createSubscription(s);
      const disabled = entry('subscription.disable', s.id);
      expect(await store.disableSubscription(s.id, 'failing for 24h', disabled)).toBe(true);
      expect(await store.disableSubscription(s.id, 'again', entry('subscription.disable', s.id))).toBe(false);
      expect(await store.disableSubscription('ffffffffffffffff', 'none')).toBe(false);
      expect(await store.getSubscription(s.id)).toEqual({
        ...s,
        state: 'disabled',
        disabled_reason: 'failing for 24h',
      });
      expect((await store.listAudit({ limit: 10, action: 'subscription.disable' })).items).toEqual([disabled]);
    });

    it('keeps a delivery log per subscription: one record per event, newest first, bounded', async () => {
      const store = current();
      const s = subscription();
      const other = subscription();
      await store.createSubscription(s);
      await store.createSubscription(other);
      await store.recordDelivery(s.id, delivery(3, { status: 'pending', response_status: 500 }), 5);
      await store.recordDelivery(s.id, delivery(3, { attempt: 2, status: 'pending', response_status: null }), 5);
      await store.recordDelivery(s.id, delivery(3, { attempt: 3 }), 5);
      await store.recordDelivery(other.id, delivery(3, { status: 'failed', response_status: 410 }), 5);
      expect(await store.listDeliveries(s.id, 10)).toEqual([delivery(3, { attempt: 3 })]);
      for (const id of [4, 5, 6, 7, 8, 9]) await store.recordDelivery(s.id, delivery(id), 5);
      expect((await store.listDeliveries(s.id, 10)).map((d) => d.event_id)).toEqual([9, 8, 7, 6, 5]);
      expect((await store.listDeliveries(s.id, 2)).map((d) => d.event_id)).toEqual([9, 8]);
      expect(await store.listDeliveries(other.id, 10)).toEqual([
        delivery(3, { status: 'failed', response_status: 410 }),
      ]);
      // Unknown subscriptions keep no log; a deleted one loses its log.
      await store.recordDelivery('ffffffffffffffff', delivery(1), 5);
      expect(await store.listDeliveries('ffffffffffffffff', 10)).toEqual([]);
      await store.deleteSubscription(s.id);
      expect(await store.listDeliveries(s.id, 10)).toEqual([]);
      await store.recordDelivery(s.id, delivery(10), 5);
      expect(await store.listDeliveries(s.id, 10)).toEqual([]);
    });
  });
}
