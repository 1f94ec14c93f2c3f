/** Every kind of change the event log records. */
export const EVENT_TYPES = [
  'component.created',
  'component.updated',
  'component.deprecated',
  'component.revoked',
  'component.deleted',
  'component.restored',
  'component.purged',
  'component.orphaned',
  'engine.health_changed',
  'engine.registered',
  'engine.removed',
  'source.synced',
  'subscription.disabled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** What an event is about. Engine and source events carry the engine or source name and nulls. */
export interface EventSubject {
  name: string;
  version: string | null;
  digest: string | null;
}

/**
 * One entry of the durable log. `id` is the sequence: strictly increasing, never reused, and the
 * SSE `id:` field. Component events carry the full stored version in `data.component`.
 */
export interface CatalogEvent {
  id: number;
  type: EventType;
  time: string;
  subject: EventSubject;
  data: CatalogEventData;
}

/**
 * What an event carries. Component events: the stored version (`component`), the fields a change
 * touched (`changed`), and for a member of a changeset the set's id (`changeset`), the same on
 * every event of the set, whose sequences are consecutive.
 */
export interface CatalogEventData extends Record<string, unknown> {
  changeset?: string;
}

/** An event before the log assigns its sequence and time. */
export interface NewCatalogEvent {
  type: EventType;
  subject: EventSubject;
  data: Record<string, unknown>;
}
