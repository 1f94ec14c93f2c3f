import type { DeliveryRecord, StoredSubscription } from './interfaces.js';

/** A `subscriptions` row of the SQL stores: lists and the filter are JSON text. */
export interface SubscriptionRow {
  id: string;
  url: string;
  types: string;
  filter: string;
  secret: string;
  created_at: string;
  state: string;
  disabled_reason: string | null;
  position: number | string;
}

export function subscriptionRow(s: StoredSubscription): SubscriptionRow {
  return { ...s, types: JSON.stringify(s.types), filter: JSON.stringify(s.filter) };
}

export function fromSubscriptionRow(r: SubscriptionRow): StoredSubscription {
  return {
    id: r.id,
    url: r.url,
    types: JSON.parse(r.types) as string[],
    filter: JSON.parse(r.filter) as StoredSubscription['filter'],
    secret: r.secret,
    created_at: r.created_at,
    state: r.state === 'disabled' ? 'disabled' : 'active',
    disabled_reason: r.disabled_reason,
    // PostgreSQL answers bigint columns as text.
    position: Number(r.position),
  };
}

/** A `deliveries` row of the SQL stores. */
export interface DeliveryRow {
  event_id: number | string;
  attempt: number;
  status: string;
  response_status: number | null;
  time: string;
}

export function fromDeliveryRow(r: DeliveryRow): DeliveryRecord {
  return {
    event_id: Number(r.event_id),
    attempt: r.attempt,
    status: r.status as DeliveryRecord['status'],
    response_status: r.response_status,
    time: r.time,
  };
}

/** Oldest first, ties by id: the order of `listSubscriptions`. */
export function bySubscriptionAge(a: StoredSubscription, b: StoredSubscription): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
