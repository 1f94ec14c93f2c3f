import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { create, type NestorError } from '@nestor/sdk';
import type { Scope } from '../../config/api-tokens.js';

/** A known token, kept only as the sha256 of its value. */
export interface TokenRecord {
  name: string;
  sha256: Buffer;
  scopes: Scope[];
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A new random admin token: 32 bytes, base64url, prefixed so it is recognisable in secret scanners. */
export function generateToken(): string {
  return `nst_${randomBytes(32).toString('base64url')}`;
}

/**
 * Every Authorization header a request carried (Node keeps only the first in `headers`, which
 * would let a second, conflicting header pass unnoticed): one string, several, or none.
 */
export function authorizationHeader(rawHeaders: string[]): string | string[] | undefined {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'authorization') values.push(rawHeaders[i + 1] ?? '');
  }
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0] : values;
}

/** What a request is allowed to do. */
export interface Principal {
  name: string;
  scopes: Scope[];
}

/**
 * Bearer-token authentication. Tokens are compared as sha256 digests in constant time against
 * every known token, so neither timing nor early exit reveals which one nearly matched.
 */
export class TokenAuthenticator {
  private readonly tokens: TokenRecord[];
  readonly anonymousRead: boolean;

  constructor(opts: { tokens: TokenRecord[]; anonymousRead: boolean }) {
    this.tokens = opts.tokens;
    this.anonymousRead = opts.anonymousRead;
  }

  get size(): number {
    return this.tokens.length;
  }

  /**
   * The principal for an Authorization header value, `null` for an anonymous request, or an
   * `unauthorized` error for a presented but unknown or malformed token.
   */
  authenticate(header: string | string[] | undefined): Principal | null | NestorError {
    if (header === undefined || header === '') return null;
    if (Array.isArray(header)) {
      return create('unauthorized')
        .component('auth')
        .operation('Authenticate')
        .message('send exactly one Authorization header')
        .build();
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m?.[1]) {
      return create('unauthorized')
        .component('auth')
        .operation('Authenticate')
        .message('Authorization header must be "Bearer <token>"')
        .build();
    }
    const digest = createHash('sha256').update(m[1], 'utf8').digest();
    let found: TokenRecord | null = null;
    for (const record of this.tokens) {
      if (timingSafeEqual(record.sha256, digest) && !found) found = record;
    }
    if (!found) {
      return create('unauthorized').component('auth').operation('Authenticate').message('unknown token').build();
    }
    return { name: found.name, scopes: found.scopes };
  }

  /** Null when `principal` may act with `scope`; otherwise the error to answer with. */
  authorize(principal: Principal | null, scope: Scope): NestorError | null {
    if (principal === null) {
      if (scope === 'read' && this.anonymousRead) return null;
      return create('unauthorized')
        .component('auth')
        .operation('Authorize')
        .message(`a bearer token with scope "${scope}" is required`)
        .detail('required_scope', scope)
        .build();
    }
    if (principal.scopes.includes('admin') || principal.scopes.includes(scope)) return null;
    if (scope === 'read' && principal.scopes.includes('write')) return null;
    return create('forbidden')
      .component('auth')
      .operation('Authorize')
      .message(`token "${principal.name}" lacks scope "${scope}"`)
      .detail('required_scope', scope)
      .build();
  }
}
