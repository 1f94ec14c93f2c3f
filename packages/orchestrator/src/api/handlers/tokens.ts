import type { CreatedToken, TokenList } from '@nestor/sdk';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditRecorder } from '../../audit/recorder.js';
import { decodeTokenRequest, type TokenService } from '../../tokens/service.js';
import { auditForWrite, field } from '../middleware/audit.js';
import { NoContent, problemResponse } from '../openapi.js';

const IdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'Token id (the part after `nst_`)' }),
});

const Scopes = Type.Array(Type.Union(['read', 'write', 'admin', 'provenance'].map((s) => Type.Literal(s))), {
  minItems: 1,
  description: '`admin` implies read and write; `provenance` lets writes set `git_*` fields',
});
const Names = Type.Array(Type.String({ maxLength: 128 }), {
  maxItems: 64,
  description: 'Glob patterns (`aws-*`) of the component names the token may publish or patch; [] or absent: any',
});
const TokenFields = {
  id: Type.String({ description: '16 hex characters' }),
  name: Type.String(),
  scopes: Scopes,
  names: Names,
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
};

const TokenRequestSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' }),
    scopes: Scopes,
    names: Type.Optional(Names),
    expires_in: Type.Optional(
      Type.Union([Type.String({ examples: ['90d'] }), Type.Integer()], {
        description: 'Lifetime: `30m`, `12h`, `90d` or seconds; 1 minute to 366 days. Absent: never expires',
      }),
    ),
  },
  { additionalProperties: false },
);

/** `POST/GET /v1/tokens`, `DELETE /v1/tokens/{id}` (admin): stored API tokens. */
export function registerTokenRoutes(
  app: FastifyInstance,
  { tokens, audit }: { tokens: TokenService; audit: AuditRecorder },
): void {
  app.post(
    '/v1/tokens',
    {
      config: { scope: 'admin', audit: { action: 'token.create', subject: (req) => field(req.body, 'name') } },
      schema: {
        tags: ['tokens'],
        operationId: 'createToken',
        summary: 'Create an API token (admin); the token is shown only in this answer',
        body: TokenRequestSchema,
        response: {
          201: Type.Object(
            { ...TokenFields, token: Type.String({ description: '`nst_<id>_<secret>`; store it now' }) },
            { additionalProperties: true },
          ),
          409: problemResponse(409, 'A token with that name exists', ['token_conflict']),
        },
      },
    },
    async (req, reply): Promise<CreatedToken> => {
      const input = decodeTokenRequest(req.body);
      const created = await tokens.create(input, (id) =>
        auditForWrite(audit, req, 'token.create', id, { name: input.name, scopes: input.scopes, names: input.names }),
      );
      req.auditWritten = true;
      reply.status(201).header('location', `/v1/tokens/${created.id}`);
      return created;
    },
  );

  app.get(
    '/v1/tokens',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['tokens'],
        operationId: 'listTokens',
        summary: 'Stored API tokens, without their secrets (admin)',
        response: {
          200: Type.Object(
            {
              items: Type.Array(
                Type.Object(
                  {
                    ...TokenFields,
                    prefix: Type.String({ description: '`nst_<id>`: how the token starts' }),
                    last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
                  },
                  { additionalProperties: true },
                ),
              ),
            },
            { additionalProperties: true },
          ),
        },
      },
    },
    async (): Promise<TokenList> => ({ items: await tokens.list() }),
  );

  app.delete(
    '/v1/tokens/:id',
    {
      config: { scope: 'admin', audit: { action: 'token.revoke', subject: (req) => field(req.params, 'id') } },
      schema: {
        tags: ['tokens'],
        operationId: 'revokeToken',
        summary: 'Revoke a stored API token (admin); every replica refuses it within 2 s',
        params: IdParams,
        response: { 204: NoContent, 404: problemResponse(404, 'No stored token has the id', ['token_not_found']) },
      },
    },
    async (req, reply) => {
      const { id } = req.params as Static<typeof IdParams>;
      await tokens.revoke(id, auditForWrite(audit, req, 'token.revoke', id));
      req.auditWritten = true;
      return reply.status(204).send();
    },
  );
}
