import { type DeploymentEngine, type EngineList, invalidRequest, NestorError } from '@nestor/sdk';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditRecorder } from '../../audit/recorder.js';
import type { EngineConfig } from '../../config/config.js';
import { decodeEngine, EngineSchema } from '../../config/engine-config.js';
import { probeSummary } from '../../engines/health.js';
import type { EngineDetail, EngineReader, EngineRegistrar } from '../../engines/interfaces.js';
import { engineNotFound } from '../../storage/errors.js';
import { auditForWrite, field } from '../middleware/audit.js';
import { NoContent, openObject, problemResponse } from '../openapi.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 253, description: 'Engine name' }) });
const COMPONENT = 'api';

export interface EngineRouteDeps {
  engines: EngineReader & EngineRegistrar & { describe(name: string): Promise<EngineDetail | null> };
  audit: AuditRecorder;
}

/**
 * `GET/POST /v1/engines`, `GET/DELETE /v1/engines/{name}`; registration needs the admin scope. A
 * registration or deletion hands its audit entry to the store write; refusals are recorded by the
 * audit hook after the answer.
 */
export function registerEngineRoutes(app: FastifyInstance, { engines, audit }: EngineRouteDeps): void {
  app.get(
    '/v1/engines',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['engines'],
        operationId: 'listEngines',
        summary: 'Deployment engines with their health',
        response: { 200: openObject('`{ items: [...] }`: each engine with its health') },
      },
    },
    async (req): Promise<EngineList> => {
      const items = await engines.listEngines();
      return { items: req.principal ? items : items.map(anonymousView) };
    },
  );

  app.get(
    '/v1/engines/:name',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['engines'],
        operationId: 'getEngine',
        summary: 'One engine with its recent probes',
        params: NameParams,
        response: { 200: openObject('The engine, its health and `history` of recent probes') },
      },
    },
    async (req): Promise<EngineDetail> => {
      const { name } = req.params as Static<typeof NameParams>;
      const detail = await engines.describe(name);
      if (!detail) throw engineNotFound(COMPONENT, 'GetEngine', name);
      if (req.principal) return detail;
      return { ...anonymousView(detail), history: detail.history.map((p) => ({ ...p, message: probeSummary(p) })) };
    },
  );

  app.post(
    '/v1/engines',
    {
      config: { scope: 'admin', audit: { action: 'engine.register', subject: (req) => field(req.body, 'name') } },
      schema: {
        tags: ['engines'],
        operationId: 'registerEngine',
        summary: 'Register an engine (admin)',
        body: EngineSchema,
        response: {
          201: openObject('Registered; `Location` names the engine'),
          409: problemResponse(409, 'An engine with that name exists', ['engine_conflict']),
        },
      },
    },
    async (req, reply): Promise<DeploymentEngine> => {
      const config = decodeBody(req.body);
      const engine = await engines.register(
        config,
        auditForWrite(audit, req, 'engine.register', config.name, { type: config.type, endpoint: config.endpoint }),
      );
      req.auditWritten = true;
      reply.status(201).header('location', `/v1/engines/${engine.name}`);
      return engine;
    },
  );

  app.delete(
    '/v1/engines/:name',
    {
      config: { scope: 'admin', audit: { action: 'engine.delete', subject: (req) => field(req.params, 'name') } },
      schema: {
        tags: ['engines'],
        operationId: 'deregisterEngine',
        summary: 'Deregister an engine (admin)',
        params: NameParams,
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      const { name } = req.params as Static<typeof NameParams>;
      // An engine known only to this replica has no stored row to delete: the hook records the answer.
      req.auditWritten = await engines.deregister(name, auditForWrite(audit, req, 'engine.delete', name));
      return reply.status(204).send();
    },
  );
}

/**
 * What an anonymous reader sees: health, latency and last check, but no probe message, since one
 * can hold an engine's response body, a redirect target or an internal address from an error.
 */
function anonymousView<T extends DeploymentEngine>(engine: T): T {
  return { ...engine, message: null };
}

/** The config decoder's rules, with its errors re-worded for a request body and naming the field. */
function decodeBody(body: unknown): EngineConfig {
  try {
    return decodeEngine(body, 'body');
  } catch (err) {
    if (!NestorError.hasCode(err, 'invalid_request')) throw err;
    const field = /body\.([A-Za-z0-9_.[\]]+)/.exec(err.message)?.[1];
    const message = err.message.replace('unknown config key', 'unknown field').replace(/\bbody\./g, '');
    throw invalidRequest(COMPONENT, 'RegisterEngine', message, field ? { field } : {});
  }
}
