import { createHash, randomBytes } from 'node:crypto';
import { type CreatedToken, invalidRequest, type TokenInfo, type TokenScope } from '@nestor/sdk';
import picomatch from 'picomatch';
import type { Clock } from '../observability/clock.js';
import { tokenConflict, tokenNotFound } from '../storage/errors.js';
import type { AuditEntry, StoredToken, TokenStore } from '../storage/interfaces.js';
import type { StoredTokenVerifier } from './verifier.js';

const COMPONENT = 'tokens';
const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** Characters of a `names` pattern: component-name characters and the glob operators `* ? { } , !`. */
const PATTERN = /^!?[a-z0-9*?{},-]+$/;
const SCOPES: readonly TokenScope[] = ['read', 'write', 'admin', 'provenance'];
const MAX_PATTERNS = 64;
const MAX_PATTERN_LENGTH = 128;
/** Shortest and longest lifetime a token may be given. */
const MIN_EXPIRY_MS = 60_000;
const MAX_EXPIRY_MS = 366 * 24 * 3_600_000;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A decoded `POST /v1/tokens` body. */
export interface TokenRequestInput {
  name: string;
  scopes: TokenScope[];
  names: string[];
  /** Milliseconds, or null for a token that does not expire. */
  expiresInMs: number | null;
}

/**
 * Decodes a `POST /v1/tokens` body: every field checked, unknown fields refused, each failure a
 * 400 `invalid_request` naming the field.
 */
export function decodeTokenRequest(body: unknown): TokenRequestInput {
  const bad = (field: string, message: string) =>
    invalidRequest(COMPONENT, 'CreateToken', `${field}: ${message}`, { field });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest(COMPONENT, 'CreateToken', 'the body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!['name', 'scopes', 'names', 'expires_in'].includes(key)) throw bad(key, 'unknown field');
  }
  const name = b['name'];
  if (typeof name !== 'string' || name.length < 1 || name.length > 63 || !NAME.test(name)) {
    throw bad('name', 'must be 1-63 lowercase letters, digits or hyphens, starting and ending with a letter or digit');
  }
  const scopes = b['scopes'];
  if (!Array.isArray(scopes) || scopes.length === 0) throw bad('scopes', 'must be a non-empty array');
  for (const [i, s] of scopes.entries()) {
    if (typeof s !== 'string' || !SCOPES.includes(s as TokenScope)) {
      throw bad(`scopes[${i}]`, `must be one of ${SCOPES.join(', ')}`);
    }
  }
  if (new Set(scopes).size !== scopes.length) throw bad('scopes', 'must not repeat a scope');
  const names = b['names'] ?? [];
  if (!Array.isArray(names)) throw bad('names', 'must be an array of glob patterns');
  if (names.length > MAX_PATTERNS) throw bad('names', `at most ${MAX_PATTERNS} patterns`);
  for (const [i, p] of names.entries()) {
    if (typeof p !== 'string' || p.length === 0 || p.length > MAX_PATTERN_LENGTH || !PATTERN.test(p)) {
      throw bad(
        `names[${i}]`,
        `must be a glob of 1-${MAX_PATTERN_LENGTH} characters: lowercase letters, digits, "-" and the operators * ? { } , !`,
      );
    }
    if (!compiles(p)) throw bad(`names[${i}]`, 'is not a valid glob pattern');
  }
  return {
    name,
    scopes: scopes as TokenScope[],
    names: names as string[],
    expiresInMs: b['expires_in'] === undefined || b['expires_in'] === null ? null : expiry(b['expires_in'], bad),
  };
}

function compiles(pattern: string): boolean {
  try {
    picomatch(pattern, { strictBrackets: true });
    return true;
  } catch {
    return false;
  }
}

function expiry(value: unknown, bad: (field: string, message: string) => Error): number {
  let ms: number | null = null;
  if (typeof value === 'number' && Number.isInteger(value)) ms = value * 1000;
  else if (typeof value === 'string') {
    const m = /^(\d{1,9})(s|m|h|d)?$/.exec(value.trim());
    if (m) ms = Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000);
  }
  if (ms === null)
    throw bad('expires_in', 'must be a duration such as "90d", "12h", "30m" or a whole number of seconds');
  if (ms < MIN_EXPIRY_MS || ms > MAX_EXPIRY_MS) throw bad('expires_in', 'must be between 1 minute and 366 days');
  return ms;
}

/**
 * Whether a token with these `names` patterns may write `name`: it must match one positive pattern
 * (any name when there is none) and no `!`-negated one. An empty list allows every name.
 */
export function namesAllow(patterns: readonly string[], name: string): boolean {
  const match = (p: string) => picomatch.isMatch(name, p, { strictBrackets: true });
  const positive = patterns.filter((p) => !p.startsWith('!'));
  const negative = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  return (positive.length === 0 || positive.some(match)) && !negative.some(match);
}

export interface TokenServiceOptions {
  store: TokenStore;
  clock: Clock;
  /** Names of config and environment tokens: a stored token may not take one. */
  reservedNames: ReadonlySet<string>;
  verifier: StoredTokenVerifier;
}

/** Creating, listing and revoking stored API tokens (`/v1/tokens`, `nestor token`). */
export class TokenService {
  private readonly store: TokenStore;
  private readonly clock: Clock;
  private readonly reservedNames: ReadonlySet<string>;
  private readonly verifier: StoredTokenVerifier;

  constructor(opts: TokenServiceOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.reservedNames = opts.reservedNames;
    this.verifier = opts.verifier;
  }

  /** Creates a token; the answer is the only place its secret ever appears. Throws `token_conflict`. */
  async create(input: TokenRequestInput, audit?: (id: string) => AuditEntry): Promise<CreatedToken> {
    if (this.reservedNames.has(input.name)) throw tokenConflict(COMPONENT, 'CreateToken', input.name);
    const id = randomBytes(8).toString('hex');
    const token = `nst_${id}_${randomBytes(32).toString('base64url')}`;
    const now = this.clock.now();
    const stored: StoredToken = {
      id,
      name: input.name,
      sha256: createHash('sha256').update(token, 'utf8').digest('hex'),
      scopes: input.scopes,
      names: input.names,
      created_at: now.toISOString(),
      expires_at: input.expiresInMs === null ? null : new Date(now.getTime() + input.expiresInMs).toISOString(),
      last_used_at: null,
    };
    await this.store.createToken(stored, audit?.(id));
    const { sha256: _hash, last_used_at: _used, ...shown } = stored;
    return { ...shown, token };
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.store.listTokens()).map(tokenInfo);
  }

  /** Revokes a token: refused here at once, on other replicas within the verifier's TTL. Throws `token_not_found`. */
  async revoke(id: string, audit?: AuditEntry): Promise<StoredToken> {
    const token = await this.store.getToken(id);
    if (!token || !(await this.store.deleteToken(id, audit))) throw tokenNotFound(COMPONENT, 'RevokeToken', id);
    this.verifier.forget(id);
    return token;
  }
}

function tokenInfo(t: StoredToken): TokenInfo {
  return {
    id: t.id,
    name: t.name,
    prefix: `nst_${t.id}`,
    scopes: t.scopes,
    names: t.names,
    created_at: t.created_at,
    expires_at: t.expires_at,
    last_used_at: t.last_used_at,
  };
}
