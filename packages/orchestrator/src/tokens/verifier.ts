import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../observability/clock.js';
import type { Logger } from '../observability/logging/logger.js';
import type { StoredToken, TokenStore } from '../storage/interfaces.js';

/** `nst_<16 hex id>_<43 base64url characters of secret>`: the shape of every stored token. */
const STORED_TOKEN = /^nst_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;

/** The id of a token shaped like a stored one, or null. */
export function storedTokenId(token: string): string | null {
  return STORED_TOKEN.exec(token)?.[1] ?? null;
}

export type Verdict = { ok: true; token: StoredToken } | { ok: false; reason: 'unknown' | 'expired' };

interface Entry {
  token: StoredToken | null;
  /** When the entry was read from the store (clock ms). */
  readAt: number;
}

export interface StoredTokenVerifierOptions {
  store: TokenStore;
  clock: Clock;
  logger: Logger;
  /**
   * How long a token read from the store is trusted before it is read again (default 1 s). This
   * bounds how long a token revoked on another replica keeps working here.
   */
  ttlMs?: number;
  /** Least time between two `last_used_at` writes of one token (default 1 minute). */
  touchIntervalMs?: number;
  /** Most tokens (known or unknown ids) kept in memory. */
  maxEntries?: number;
}

/**
 * Checks presented tokens against the token store: the id part finds one record (a primary-key
 * read), and the sha256 of the whole token is compared in constant time. Records are kept for
 * `ttlMs` only, so a revocation or an expiry reaches every replica within that time without any
 * message between them; the store stays the one truth.
 */
export class StoredTokenVerifier {
  private readonly store: TokenStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly ttlMs: number;
  private readonly touchIntervalMs: number;
  private readonly maxEntries: number;
  private readonly entries = new Map<string, Entry>();
  private readonly reads = new Map<string, Promise<Entry>>();
  private readonly touched = new Map<string, number>();

  constructor(opts: StoredTokenVerifierOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.ttlMs = opts.ttlMs ?? 1000;
    this.touchIntervalMs = opts.touchIntervalMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  /** Judges a presented token. Store failures reject (the request then fails with 503). */
  async verify(presented: string): Promise<Verdict> {
    const id = storedTokenId(presented);
    if (id === null) return { ok: false, reason: 'unknown' };
    const entry = await this.entry(id);
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    const stored = entry.token ? Buffer.from(entry.token.sha256, 'hex') : Buffer.alloc(32);
    const equal = stored.length === 32 && timingSafeEqual(stored, digest);
    if (!entry.token || !equal) return { ok: false, reason: 'unknown' };
    const now = this.clock.now();
    if (entry.token.expires_at !== null && entry.token.expires_at <= now.toISOString()) {
      return { ok: false, reason: 'expired' };
    }
    this.touch(entry.token, now);
    return { ok: true, token: entry.token };
  }

  /** Forgets a token at once on this replica (after a revocation made here). */
  forget(id: string): void {
    this.entries.delete(id);
  }

  private async entry(id: string): Promise<Entry> {
    const now = this.clock.now().getTime();
    const cached = this.entries.get(id);
    if (cached && now - cached.readAt < this.ttlMs) return cached;
    let read = this.reads.get(id);
    if (!read) {
      read = this.store.getToken(id).then((token) => {
        const entry = { token, readAt: this.clock.now().getTime() };
        this.entries.delete(id);
        if (this.entries.size >= this.maxEntries) {
          const oldest = this.entries.keys().next().value;
          if (oldest !== undefined) this.entries.delete(oldest);
        }
        this.entries.set(id, entry);
        return entry;
      });
      const forget = () => this.reads.delete(id);
      read.then(forget, forget);
      this.reads.set(id, read);
    }
    return read;
  }

  /** Writes `last_used_at` at most once per interval per token (the store also checks, across replicas). */
  private touch(token: StoredToken, now: Date): void {
    const notBefore = new Date(now.getTime() - this.touchIntervalMs).toISOString();
    if (token.last_used_at !== null && token.last_used_at >= notBefore) return;
    const last = this.touched.get(token.id);
    if (last !== undefined && now.getTime() - last < this.touchIntervalMs) return;
    if (this.touched.size >= this.maxEntries) this.touched.clear();
    this.touched.set(token.id, now.getTime());
    this.store.touchToken(token.id, now.toISOString(), notBefore).catch((err: unknown) => {
      this.logger.warn({ err, token: token.name }, 'could not record when a token was last used');
    });
  }
}
