import type { CatalogEvent, EventType } from '@nestor/sdk';

/**
 * Which events a subscriber wants. Each set narrows (AND across sets, OR within one); an absent set
 * matches everything. Provider and category are read from `data.component`, so engine and source
 * events never match a provider or category filter.
 */
export interface EventFilter {
  types?: ReadonlySet<EventType> | undefined;
  names?: ReadonlySet<string> | undefined;
  providers?: ReadonlySet<string> | undefined;
  categories?: ReadonlySet<string> | undefined;
}

/** True when `event` passes every set of `filter`. */
export function matchesFilter(filter: EventFilter, event: CatalogEvent): boolean {
  if (filter.types && !filter.types.has(event.type)) return false;
  if (filter.names && !filter.names.has(event.subject.name)) return false;
  if (filter.providers || filter.categories) {
    const component = event.data.component as { provider?: unknown; category?: unknown } | undefined;
    if (!component) return false;
    if (filter.providers && !filter.providers.has(String(component.provider))) return false;
    if (filter.categories && !filter.categories.has(String(component.category))) return false;
  }
  return true;
}

/** True when the filter lets every event through (the common case skips per-event checks). */
export function isEmptyFilter(filter: EventFilter): boolean {
  return !filter.types && !filter.names && !filter.providers && !filter.categories;
}

/**
 * One event as SSE text. JSON never contains a raw newline, so `data:` is always a single line;
 * the frame is encoded once and the same string is written to every subscriber.
 */
export function encodeEvent(event: CatalogEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** A control frame (`reset`, `overflow`) without an `id:`, so it never moves the client's position. */
export function encodeControl(type: 'reset' | 'overflow', data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The heartbeat: an SSE comment, ignored by every client but enough to keep proxies from timing out. */
export const HEARTBEAT = ': heartbeat\n\n';
