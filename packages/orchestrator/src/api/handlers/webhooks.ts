import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { create, type NestorError } from '@nestor/sdk';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  type BodySignature,
  DeliveryDeduper,
  identifyProvider,
  parseDelivery,
  signatureHeaders,
  type WebhookProvider,
} from '../../git/webhook.js';
import type { Clock } from '../../observability/clock.js';
import type { Logger } from '../../observability/logging/logger.js';
import type { SourceDefinition, SourceManager } from '../../sources/manager.js';
import { openObject, problemResponse } from '../openapi.js';

/**
 * Bytes of a refused body that are read and thrown away before the connection is cut. A client
 * that is still sending when the answer goes out only sees it if the server keeps reading (closing
 * a socket with unread data resets it, and the client gets EPIPE or ECONNRESET instead of the
 * answer); GitHub's largest payload (25 MB) fits, anything longer is cut off.
 */
const WEBHOOK_DISCARD_LIMIT = 32 * 1024 * 1024;

const SourceParams = Type.Object({ source: Type.String({ minLength: 1, maxLength: 63 }) });

export interface WebhookRouteDeps {
  sources: SourceManager;
  logger: Logger;
  /** Largest body read (bytes, `webhooks.body_limit`); a longer one is 413 `payload_too_large`. */
  bodyLimit: number;
  /** Bytes of a refused body discarded before the connection is cut (WEBHOOK_DISCARD_LIMIT). */
  discardLimit?: number;
  clock?: Clock;
  /** How long delivery ids are remembered for de-duplication (ms). */
  dedupeWindowMs?: number;
}

/** A delivery whose headers passed: the body, when there is one, still has to match `signature`. */
interface Admitted {
  def: SourceDefinition;
  provider: WebhookProvider;
  signature: BodySignature | null;
}

function invalidSignature(message: string): NestorError {
  return create('invalid_signature').component('webhooks').operation('VerifyWebhook').message(message).build();
}

function tooLarge(limit: number): NestorError {
  return create('payload_too_large')
    .component('webhooks')
    .operation('ReadWebhook')
    .message(`webhook body is larger than ${limit} bytes (webhooks.body_limit)`)
    .detail('limit', limit)
    .build();
}

/**
 * `POST /v1/webhooks/{source}`: GitHub, GitLab and Gitea push notifications. No bearer token: the
 * source's secret authenticates each delivery. Everything the headers can settle (source, provider,
 * secret, GitLab's token, the signature's form, the declared length) is settled before the body is
 * read, and the body is hashed as it streams in, never held beyond `bodyLimit`. A delivery only
 * asks for a sync (the sync fetches the branch itself), so a replayed payload can at most cause a
 * fetch; repeated delivery ids are recognised and do nothing.
 */
export async function registerWebhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): Promise<void> {
  const { sources, logger, bodyLimit } = deps;
  const discardLimit = deps.discardLimit ?? WEBHOOK_DISCARD_LIMIT;
  const deduper = new DeliveryDeduper({ windowMs: deps.dedupeWindowMs, clock: deps.clock });
  const admitted = new WeakMap<FastifyRequest, Admitted>();

  function admit(req: FastifyRequest): Admitted {
    const name = (req.params as { source: string }).source;
    const def = sources.definition(name);
    const provider = identifyProvider(req.headers);
    if (!provider) {
      throw invalidSignature(
        'no webhook signature: expected X-Hub-Signature-256 (GitHub), X-Gitlab-Token (GitLab) or X-Gitea-Signature (Gitea)',
      );
    }
    if (!def.webhookSecret) {
      throw invalidSignature(`source ${name} has no webhook secret configured, so its webhooks cannot be verified`);
    }
    const verdict = signatureHeaders(provider, req.headers, def.webhookSecret);
    if (!verdict.ok) {
      if (provider === 'gitlab')
        logger.warn({ source: name, provider, ip: req.ip }, 'webhook with a bad token refused');
      throw invalidSignature(verdict.reason);
    }
    // Node has checked that Content-Length is a number; a chunked body is held to the limit as it arrives.
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > bodyLimit) throw tooLarge(bodyLimit);
    return { def, provider, signature: verdict.signature };
  }

  await app.register(async (scope) => {
    // Signatures cover the exact bytes sent, so this route reads the raw body itself whatever its type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', async (req: FastifyRequest, payload: Readable) => {
      const state = admitted.get(req);
      if (!state) throw new Error('webhook body reached before its headers were checked');
      return readBody(payload, bodyLimit, (chunk) => state.signature?.update(chunk));
    });

    scope.post(
      '/v1/webhooks/:source',
      {
        schema: {
          tags: ['sources'],
          operationId: 'receiveWebhook',
          summary: 'Push notifications from GitHub, GitLab or Gitea (authenticated by signature)',
          description: 'Authenticated by the provider signature of the source secret, not by a bearer token.',
          params: SourceParams,
          response: {
            200: openObject('A ping: `{ status: "pong", source, provider }`'),
            202: openObject(
              '`{ status: "accepted" | "duplicate" | "ignored", source, ... }`; a sync starts when accepted',
            ),
            401: problemResponse(401, 'Missing or bad signature'),
          },
        },
        config: { discardsRefusedBody: true },
        onRequest: async (req) => {
          admitted.set(req, admit(req));
        },
        onSend: (req, _reply, payload, done) => {
          discardRest(req.raw, discardLimit);
          done(null, payload);
        },
      },
      async (req, reply) => {
        const state = admitted.get(req);
        if (!state) throw new Error('webhook handled before its headers were checked');
        const { def, provider, signature } = state;
        const name = def.name;
        // Refused here rather than as a parser error: Fastify closes the connection after a parser
        // error, which resets it while the client is still sending.
        if (req.body === TOO_LARGE) throw tooLarge(bodyLimit);
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        // With no body at all the parser never ran and the signature is that of zero bytes.
        if (signature && !signature.matches()) {
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

/** What the body parser yields for a body that passed the limit while streaming. */
const TOO_LARGE = Symbol('webhook body too large');

/**
 * Reads a body of at most `limit` bytes, handing each chunk to `onChunk` as it arrives. A body
 * that passes the limit yields TOO_LARGE at once, so the 413 goes out while the client is still
 * sending; the rest is dropped as it arrives (and bounded by `discardRest`).
 */
function readBody(
  stream: Readable,
  limit: number,
  onChunk: (chunk: Buffer) => void,
): Promise<Buffer | typeof TOO_LARGE> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    function onData(chunk: Buffer | string) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += bytes.length;
      if (received > limit) {
        stop();
        resolve(TOO_LARGE);
        return;
      }
      onChunk(bytes);
      chunks.push(bytes);
    }
    function onEnd() {
      stop();
      resolve(Buffer.concat(chunks, received));
    }
    function onError() {
      stop();
      reject(
        create('invalid_request')
          .component('webhooks')
          .operation('ReadWebhook')
          .message('the webhook body could not be read')
          .build(),
      );
    }
    function onClose() {
      // A client that goes away mid-body ends in 'close' without 'end'.
      if (!stream.readableEnded) onError();
    }
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    stream.resume();
  });
}

/**
 * Before an answer that leaves part of the body unread: reads the rest and drops it, so that the
 * client sees the answer and the connection stays usable, and cuts the connection once more than
 * `limit` bytes arrive. (Left to itself, Node also drops the rest, but without any bound.)
 */
function discardRest(raw: IncomingMessage, limit: number): void {
  if (raw.complete || raw.destroyed) return;
  let discarded = 0;
  const onData = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limit) {
      raw.off('data', onData);
      raw.socket.destroy();
    }
  };
  raw.on('data', onData);
  raw.once('end', () => raw.off('data', onData));
}
