import {
  type CreatedSubscription,
  type DeliveryList,
  EVENT_TYPES,
  type SubscriptionInfo,
  type SubscriptionList,
} from '@nestor/sdk';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditRecorder } from '../../audit/recorder.js';
import { decodeSubscriptionRequest, type SubscriptionService } from '../../webhooks/subscriptions.js';
import { auditForWrite, field } from '../middleware/audit.js';
import { NoContent, problemResponse } from '../openapi.js';

const IdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'Subscription id' }),
});

const EventTypes = Type.Array(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))), {
  description: 'Event types delivered; absent or []: every type',
});
const Filter = Type.Object(
  {
    name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
    provider: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
    category: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
  },
  { additionalProperties: false, description: 'Only events of this component name, provider and category' },
);
const StoredFilter = Type.Object({
  name: Type.Union([Type.String(), Type.Null()]),
  provider: Type.Union([Type.String(), Type.Null()]),
  category: Type.Union([Type.String(), Type.Null()]),
});
const SubscriptionFields = {
  id: Type.String({ description: '16 hex characters' }),
  url: Type.String(),
  types: Type.Array(Type.String()),
  filter: StoredFilter,
  created_at: Type.String({ format: 'date-time' }),
  state: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
};
const Subscription = Type.Object(SubscriptionFields, { additionalProperties: true });

const SubscriptionRequestSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description:
        'http(s) URL without credentials or fragment; a host that is or resolves to a loopback, link-local, ' +
        'private or metadata address is refused unless listed in `webhooks.allow_hosts`',
    }),
    types: Type.Optional(EventTypes),
    filter: Type.Optional(Type.Union([Filter, Type.Null()])),
  },
  { additionalProperties: false },
);

const DeliveriesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const NotFound = problemResponse(404, 'No subscription has the id', ['subscription_not_found']);

/** `/v1/subscriptions` (admin): outgoing webhook subscriptions and their delivery logs (DESIGN.md 10.6). */
export function registerSubscriptionRoutes(
  app: FastifyInstance,
  { subscriptions, audit }: { subscriptions: SubscriptionService; audit: AuditRecorder },
): void {
  app.post(
    '/v1/subscriptions',
    {
      config: {
        scope: 'admin',
        audit: { action: 'subscription.create', subject: (req) => field(req.body, 'url') },
      },
      schema: {
        tags: ['subscriptions'],
        operationId: 'createSubscription',
        summary: 'Subscribe a URL to catalog events (admin); the signing secret is shown only in this answer',
        body: SubscriptionRequestSchema,
        response: {
          201: Type.Object(
            {
              ...SubscriptionFields,
              secret: Type.String({ description: '`whsec_...`: the Standard Webhooks signing secret; store it now' }),
            },
            { additionalProperties: true },
          ),
        },
      },
    },
    async (req, reply): Promise<CreatedSubscription> => {
      const input = decodeSubscriptionRequest(req.body);
      const created = await subscriptions.create(input, (id) =>
        auditForWrite(audit, req, 'subscription.create', id, { url: input.url, types: input.types }),
      );
      req.auditWritten = true;
      reply.status(201).header('location', `/v1/subscriptions/${created.id}`);
      return created;
    },
  );

  app.get(
    '/v1/subscriptions',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['subscriptions'],
        operationId: 'listSubscriptions',
        summary: 'Webhook subscriptions, without their secrets (admin)',
        response: { 200: Type.Object({ items: Type.Array(Subscription) }, { additionalProperties: true }) },
      },
    },
    async (): Promise<SubscriptionList> => ({ items: await subscriptions.list() }),
  );

  app.get(
    '/v1/subscriptions/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['subscriptions'],
        operationId: 'getSubscription',
        summary: 'One webhook subscription, without its secret (admin)',
        params: IdParams,
        response: { 200: Subscription, 404: NotFound },
      },
    },
    async (req): Promise<SubscriptionInfo> => subscriptions.get((req.params as Static<typeof IdParams>).id),
  );

  app.delete(
    '/v1/subscriptions/:id',
    {
      config: {
        scope: 'admin',
        audit: { action: 'subscription.delete', subject: (req) => field(req.params, 'id') },
      },
      schema: {
        tags: ['subscriptions'],
        operationId: 'deleteSubscription',
        summary: 'Delete a webhook subscription and its delivery log (admin)',
        params: IdParams,
        response: { 204: NoContent, 404: NotFound },
      },
    },
    async (req, reply) => {
      const { id } = req.params as Static<typeof IdParams>;
      await subscriptions.delete(id, auditForWrite(audit, req, 'subscription.delete', id));
      req.auditWritten = true;
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/subscriptions/:id/deliveries',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['subscriptions'],
        operationId: 'listDeliveries',
        summary: "A subscription's delivery log: the latest attempt at each event, newest first (admin)",
        params: IdParams,
        querystring: DeliveriesQuery,
        response: {
          200: Type.Object(
            {
              items: Type.Array(
                Type.Object(
                  {
                    event_id: Type.Integer(),
                    attempt: Type.Integer({ minimum: 1 }),
                    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
                    response_status: Type.Union([Type.Integer(), Type.Null()]),
                    time: Type.String({ format: 'date-time' }),
                  },
                  { additionalProperties: true },
                ),
              ),
            },
            { additionalProperties: true },
          ),
          404: NotFound,
        },
      },
    },
    async (req): Promise<DeliveryList> => {
      const { id } = req.params as Static<typeof IdParams>;
      const { limit } = req.query as Static<typeof DeliveriesQuery>;
      return { items: await subscriptions.deliveries(id, limit ?? 100) };
    },
  );
}
