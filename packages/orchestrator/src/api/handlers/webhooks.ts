import { create } from '@nestor/sdk';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { SourceManager } from '../../catalog/sources.js';
import { DeliveryDeduper, identifyProvider, parseDelivery, verifySignature } from '../../git/webhook.js';
import type { Clock } from '../../observability/clock.js';
import type { Logger } from '../../observability/logging/logger.js';

/** Largest webhook body read (GitHub caps payloads at 25 MB; pushes of many commits get big). */
export const WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

const SourceParams = Type.Object({ source: Type.String({ minLength: 1, maxLength: 63 }) });

export interface WebhookRouteDeps {
  sources: SourceManager;
  logger: Logger;
  clock?: Clock;
  /** How long delivery ids are remembered for de-duplication (ms). */
  dedupeWindowMs?: number;
}

function invalidSignature(message: string) {
  return create('invalid_signature').component('webhooks').operation('VerifyWebhook').message(message).build();
}

/**
 * `POST /v1/webhooks/{source}`: GitHub, GitLab and Gitea push notifications. No bearer token: the
 * source's secret authenticates each delivery. A delivery only asks for a sync (the sync fetches
 * the branch itself), so a replayed payload can at most cause a fetch; repeated delivery ids are
 * recognised and do nothing.
 */
export async function registerWebhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): Promise<void> {
  const { sources, logger } = deps;
  const deduper = new DeliveryDeduper({ windowMs: deps.dedupeWindowMs, clock: deps.clock });

  await app.register(async (scope) => {
    // Signatures cover the exact bytes sent, so this route keeps the raw body whatever its type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) =>
      done(null, body),
    );

    scope.post(
      '/v1/webhooks/:source',
      {
        bodyLimit: WEBHOOK_BODY_LIMIT,
        schema: {
          tags: ['sources'],
          summary: 'Push notifications from GitHub, GitLab or Gitea (authenticated by signature)',
          params: SourceParams,
        },
        // Unknown sources are refused before the body is read.
        onRequest: async (req) => {
          sources.definition((req.params as { source: string }).source);
        },
      },
      async (req, reply) => {
        const name = (req.params as { source: string }).source;
        const def = sources.definition(name);
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const provider = identifyProvider(req.headers);
        if (!provider) {
          throw invalidSignature(
            'no webhook signature: expected X-Hub-Signature-256 (GitHub), X-Gitlab-Token (GitLab) or X-Gitea-Signature (Gitea)',
          );
        }
        if (!def.webhookSecret) {
          throw invalidSignature(`source ${name} has no webhook secret configured, so its webhooks cannot be verified`);
        }
        if (!verifySignature(provider, req.headers, body, def.webhookSecret)) {
          logger.warn({ source: name, provider, ip: req.ip }, 'webhook with a bad signature refused');
          throw invalidSignature(`the ${provider} webhook signature does not match the secret of source ${name}`);
        }
        const contentType = typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : null;
        const delivery = parseDelivery(provider, req.headers, body, contentType);
        if (delivery.kind === 'ping') {
          reply.status(200);
          return { status: 'pong', source: name, provider };
        }
        if (delivery.deliveryId && deduper.check(`${name}:${provider}:${delivery.deliveryId}`)) {
          reply.status(202);
          return { status: 'duplicate', source: name, delivery: delivery.deliveryId };
        }
        if (delivery.kind !== 'push') {
          reply.status(202);
          return { status: 'ignored', source: name, reason: `event "${delivery.event}" does not change files` };
        }
        if (def.type === 'git' && delivery.ref !== `refs/heads/${def.branch}`) {
          reply.status(202);
          return {
            status: 'ignored',
            source: name,
            reason: `push to ${delivery.ref ?? '(no ref)'}; the source follows refs/heads/${def.branch}`,
          };
        }
        sources.requestSync(name, `webhook:${provider}`);
        logger.info(
          { source: name, provider, delivery: delivery.deliveryId, after: delivery.after },
          'webhook accepted',
        );
        reply.status(202);
        return { status: 'accepted', source: name, delivery: delivery.deliveryId, commit: delivery.after };
      },
    );
  });
}
