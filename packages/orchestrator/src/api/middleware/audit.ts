import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AuditFields, type AuditRecorder, outcomeOf } from '../../audit/recorder.js';
import type { AuditEntry, AuditOutcome } from '../../storage/interfaces.js';
import { hookList, routeConfigOf } from '../server.js';
import { actorOf } from './ownership.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes whose every answer is recorded in the audit log; `subject` reads it from the request. */
    audit?: { action: string; subject: (req: FastifyRequest) => string };
  }
  interface FastifyRequest {
    /** Set by a handler whose write carried the audit entry (so it is not recorded twice). */
    auditWritten: boolean;
    /** A subject the handler learnt (a new token's id), preferred over the route's `subject`. */
    auditSubject: string | null;
  }
}

/**
 * Records every answer of an audited route that no write recorded: refusals and no-ops. The hook is
 * put on the audited routes alone (register before the routes), so that no other request pays for
 * it; route hooks run after the server's own, as this one did when it was global.
 */
export function registerAuditHook(app: FastifyInstance, recorder: AuditRecorder): void {
  app.decorateRequest('auditWritten', false);
  app.decorateRequest('auditSubject', null);
  const record = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const audit = routeConfigOf(req).audit;
    // Rate-limited requests are not recorded: that would let a flood write to the store.
    if (!audit || req.auditWritten || reply.statusCode === 429) return;
    await recorder.record(
      recorder.entry(
        fieldsOf(req, audit.action, req.auditSubject ?? safeSubject(audit.subject, req), outcomeOf(reply.statusCode), {
          status: reply.statusCode,
        }),
      ),
    );
  };
  app.addHook('onRoute', (route) => {
    if ((route.config as FastifyContextConfig | undefined)?.audit)
      route.onResponse = [...hookList(route.onResponse), record];
  });
}

/** The entry a handler hands to the write it makes (outcome `ok`); it marks the request as recorded. */
export function auditForWrite(
  recorder: AuditRecorder,
  req: FastifyRequest,
  action: string,
  subject: string,
  details: Record<string, unknown> = {},
): AuditEntry {
  return recorder.entry(fieldsOf(req, action, subject, 'ok', details));
}

/** Written out rather than spread from the request's fields: see `extended` (objects.ts) for why. */
function fieldsOf(
  req: FastifyRequest,
  action: string,
  subject: string,
  outcome: AuditOutcome,
  details: Record<string, unknown>,
): AuditFields {
  return { actor: actorOf(req.principal), request_id: req.id, ip: req.ip ?? null, action, subject, outcome, details };
}

function safeSubject(subject: (req: FastifyRequest) => string, req: FastifyRequest): string {
  try {
    return subject(req).slice(0, 300);
  } catch {
    return '';
  }
}

/** `name@version` from a body or params that may not decode. */
export function nameAtVersion(from: unknown): string {
  const o = (from ?? {}) as Record<string, unknown>;
  const name = typeof o['name'] === 'string' ? o['name'] : '';
  const version = typeof o['version'] === 'string' ? o['version'] : '';
  return version ? `${name}@${version}` : name;
}

/** A string field of a body or params, or ''. */
export function field(from: unknown, key: string): string {
  const v = ((from ?? {}) as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : '';
}
