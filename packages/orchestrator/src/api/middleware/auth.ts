import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { create, type NestorError, type TokenScope } from '@nestor/sdk';
import type { Scope } from '../../config/api-tokens.js';
import { type StoredTokenVerifier, storedTokenId } from '../../tokens/verifier.js';

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
  scopes: readonly TokenScope[];
  /** Glob patterns of the component names it may publish or patch; [] means any. */
  names: readonly string[];
  /** The stored token's id; null for config and environment tokens. */
  tokenId: string | null;
}

/**
 * Bearer-token authentication. Tokens are compared as sha256 digests in constant time against
 * every known token, so neither timing nor early exit reveals which one nearly matched.
 */
export class TokenAuthenticator {
  private readonly tokens: TokenRecord[];
  private readonly stored: StoredTokenVerifier | null;
  readonly anonymousRead: boolean;

  constructor(opts: { tokens: TokenRecord[]; anonymousRead: boolean; stored?: StoredTokenVerifier }) {
    this.tokens = opts.tokens;
    this.anonymousRead = opts.anonymousRead;
    this.stored = opts.stored ?? null;
  }

  /** Names of the config and environment tokens (a stored token may not take one). */
  get configuredNames(): ReadonlySet<string> {
    return new Set(this.tokens.map((t) => t.name));
  }

  get size(): number {
    return this.tokens.length;
  }

  /**
   * The principal for an Authorization header value, `null` for an anonymous request, or an
   * `unauthorized` error for a presented but unknown or malformed token. Config tokens are judged at
   * once; a token shaped like a stored one (`nst_<id>_...`) that no config token matches is looked
   * up in the token store, and then the answer is a promise (which rejects when the store fails).
   */
  authenticate(
    header: string | string[] | undefined,
  ): Principal | null | NestorError | Promise<Principal | NestorError> {
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
      if (this.stored && storedTokenId(m[1]) !== null) return this.verifyStored(this.stored, m[1]);
      return unknownToken('unknown token');
    }
    return { name: found.name, scopes: found.scopes, names: [], tokenId: null };
  }

  private async verifyStored(stored: StoredTokenVerifier, token: string): Promise<Principal | NestorError> {
    const verdict = await stored.verify(token);
    if (!verdict.ok) return unknownToken(verdict.reason === 'expired' ? 'the token has expired' : 'unknown token');
    const t = verdict.token;
    return { name: t.name, scopes: t.scopes, names: t.names, tokenId: t.id };
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

function unknownToken(message: string): NestorError {
  return create('unauthorized').component('auth').operation('Authenticate').message(message).build();
}
