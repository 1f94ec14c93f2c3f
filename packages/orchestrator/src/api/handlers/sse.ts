import { create, EVENT_TYPES, type EventType, isEventType, type NestorError } from '@nestor/sdk';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { writableSink } from '../../events/sse/client.js';
import type { EventFilter } from '../../events/sse/events.js';
import type { EventBroker } from '../../events/sse/server.js';
import { problemResponse } from '../openapi.js';

export interface EventRouteDeps {
  broker: EventBroker;
}

const LIST = Type.Optional(Type.String({ maxLength: 4000, description: 'Comma-separated list' }));
const EventsQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 20, description: 'Start after this sequence' })),
  type: Type.Optional(Type.String({ maxLength: 4000, description: `Comma list of ${EVENT_TYPES.join(', ')}` })),
  name: LIST,
  provider: LIST,
  category: LIST,
});

const MAX_LIST_ITEMS = 100;
const SEQUENCE = /^\d{1,16}$/;

/**
 * `GET /v1/events`: the catalog's change stream as Server-Sent Events (DESIGN.md section 7).
 * Everything a request can get wrong is answered with a 400 problem before the stream starts;
 * afterwards the response only ever carries SSE frames.
 */
export function registerEventRoutes(app: FastifyInstance, { broker }: EventRouteDeps): void {
  // Streams must end before the server waits for its connections, or close would hang on them.
  app.addHook('preClose', async () => broker.close());

  app.get(
    '/v1/events',
    {
      config: { scope: 'read', stream: true },
      schema: {
        tags: ['events'],
        operationId: 'streamEvents',
        summary: 'Catalog change stream (SSE); resume with Last-Event-ID or since',
        querystring: EventsQuery,
        response: {
          200: {
            description: 'Server-sent events: `id`, `event` (the change type) and `data` (JSON) per change',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          429: problemResponse(429, 'Too many streams for this caller, or rate limited'),
        },
      },
    },
    async (req, reply) => {
      const query = req.query as { since?: string; type?: string; name?: string; provider?: string; category?: string };
      const after = startPosition(req.headers['last-event-id'], query.since);
      const filter = parseFilter(query);
      if (!broker.hasCapacity()) {
        throw create('service_unavailable')
          .component('sse')
          .operation('Subscribe')
          .message('the server is shutting down; reconnect to another replica or retry later')
          .build();
      }
      // Node never flushes the headers of a HEAD answer that is not ended (it drops body writes),
      // so a HEAD stream would hold a subscriber and its caller without a byte sent.
      if (req.method === 'HEAD') return reply.type('text/event-stream; charset=utf-8').send();
      // Per token when one was presented, else per address: anonymous callers share nothing else.
      const slot = broker.reserve(req.principal ? `token:${req.principal.name}` : `ip:${req.ip}`);
      let start: Awaited<ReturnType<EventBroker['prepare']>>;
      try {
        start = await broker.prepare(after);
      } catch (err) {
        slot.release();
        throw err;
      }

      reply.hijack();
      // The client may have left while the log was read: its close event is gone, so attaching
      // now would keep a subscriber that nothing ever removes.
      if (req.raw.socket.destroyed) {
        slot.release();
        return;
      }
      const res = reply.raw;
      const headers: Record<string, string | number | string[]> = {};
      for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
      res.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      req.raw.socket.setNoDelay(true);
      req.raw.socket.setKeepAlive(true);
      // The first frame carries the retry hint and, without data, the position the stream starts
      // after: a client that started at the head and drops before any event resumes from there.
      res.write(`retry: ${broker.retryMs}\n${start.kind === 'resume' ? `id: ${start.position}\n` : ''}\n`);
      const sink = writableSink(res);
      if (start.kind === 'reset') broker.reset(sink, start, slot);
      else broker.attach(sink, start.position, filter, slot);
    },
  );
}

/**
 * `Last-Event-ID` and `since` both mean "after N"; the header wins because a reconnecting
 * EventSource repeats the original URL (with its `since`) and sends its newer position as the header.
 * Neither means the head: new events only.
 */
export function startPosition(lastEventId: string | string[] | undefined, since: string | undefined): number | null {
  const header = Array.isArray(lastEventId) ? lastEventId[lastEventId.length - 1] : lastEventId;
  if (header !== undefined && header.trim() !== '') return sequence(header.trim(), 'Last-Event-ID');
  if (since !== undefined) return sequence(since.trim(), 'since');
  return null;
}

/** Comma lists of the filters; an unknown event type is a 400, unknown names simply match nothing. */
export function parseFilter(query: {
  type?: string;
  name?: string;
  provider?: string;
  category?: string;
}): EventFilter {
  const filter: EventFilter = {};
  const types = list(query.type, 'type');
  if (types) {
    for (const t of types) {
      if (!isEventType(t)) {
        throw invalid(`unknown event type "${t}"; expected one of ${EVENT_TYPES.join(', ')}`, 'type');
      }
    }
    filter.types = new Set(types as EventType[]);
  }
  const names = list(query.name, 'name');
  if (names) filter.names = new Set(names);
  const providers = list(query.provider, 'provider');
  if (providers) filter.providers = new Set(providers);
  const categories = list(query.category, 'category');
  if (categories) filter.categories = new Set(categories);
  return filter;
}

function list(value: string | undefined, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw invalid(`${field} must list at least one value`, field);
  if (items.length > MAX_LIST_ITEMS) throw invalid(`${field} lists more than ${MAX_LIST_ITEMS} values`, field);
  return items;
}

function sequence(value: string, field: string): number {
  if (!SEQUENCE.test(value)) {
    throw invalid(`${field} must be a non-negative integer event sequence, got "${value.slice(0, 40)}"`, field);
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw invalid(`${field} is out of range`, field);
  return n;
}

function invalid(message: string, field: string): NestorError {
  return create('invalid_request')
    .component('sse')
    .operation('Subscribe')
    .message(message)
    .detail('field', field)
    .build();
}
