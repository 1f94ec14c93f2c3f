import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RedisLink } from '../../infra/redis-link.js';
import type { Logger } from '../../observability/logging/logger.js';
import { silentLogger } from '../../observability/logging/logger.js';
import type { SharedCache } from './interfaces.js';

export interface RedisSharedCacheOptions {
  link: RedisLink;
  /** Key namespace under the link's prefix (CachingStore adds its own versioned prefix too). */
  namespace?: string;
  /**
   * Secret shared by the replicas that signs every entry (HMAC-SHA256). Without it entries still
   * carry a digest bound to their key, which catches truncated, corrupted and moved entries, but
   * not ones forged by someone who can write to Redis.
   */
  signingKey?: string;
  logger?: Logger;
}

/** Entry format tag: a new envelope gets a new tag and never reads old entries as valid. */
const ENVELOPE = 'n1.';
const DIGEST_HEX = 64;

/**
 * The optional L2 cache shared by every replica. Every operation degrades to a miss (or a no-op)
 * when Redis is unavailable, so the store behind the caches keeps serving.
 *
 * Entries are `n1.<hmac>.<value>`, the HMAC taken over the full key and the value, so an entry
 * that was cut short, altered, copied under another key or written by anyone without the signing
 * key reads as a miss (and is logged and dropped) instead of reaching a client.
 */
export class RedisSharedCache implements SharedCache {
  private readonly link: RedisLink;
  private readonly namespace: string;
  private readonly signingKey: string;
  private readonly logger: Logger;

  constructor(opts: RedisSharedCacheOptions) {
    this.link = opts.link;
    this.namespace = opts.namespace ?? '';
    this.signingKey = opts.signingKey ?? '';
    this.logger = opts.logger ?? silentLogger;
  }

  /** The cached value, or null on a miss, a rejected entry, or when Redis is unavailable. */
  async get(key: string): Promise<string | null> {
    if (!this.link.available) return null;
    const fullKey = this.fullKey(key);
    let stored: string | null;
    try {
      stored = await this.link.client.get(fullKey);
    } catch {
      return null;
    }
    if (stored === null) return null;
    const value = this.open(fullKey, stored);
    if (value === null) {
      this.logger.warn(
        { key: fullKey, bytes: stored.length },
        'ignored a shared cache entry whose digest does not match (corrupted, truncated or foreign); reading the store',
      );
      this.link.client.del(fullKey).catch(() => undefined);
    }
    return value;
  }

  /** Stores a value with a time-to-live; silently skipped when Redis is unavailable. */
  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!this.link.available) return;
    const fullKey = this.fullKey(key);
    try {
      await this.link.client.set(fullKey, this.seal(fullKey, value), 'PX', Math.max(1, Math.round(ttlMs)));
    } catch {
      // A missed fill only costs a later store read.
    }
  }

  /** Drops keys; silently skipped when Redis is unavailable (entries then expire by TTL). */
  async delete(keys: string[]): Promise<void> {
    if (!this.link.available || keys.length === 0) return;
    try {
      await this.link.client.del(...keys.map((k) => this.fullKey(k)));
    } catch {
      // Entries expire by their TTL.
    }
  }

  private fullKey(key: string): string {
    return this.link.key(`${this.namespace}${key}`);
  }

  private digest(fullKey: string, value: string): Buffer {
    // The key's length goes first so that no (key, value) pair can pose as another.
    return createHmac('sha256', this.signingKey).update(`${fullKey.length}:${fullKey}\n`).update(value).digest();
  }

  private seal(fullKey: string, value: string): string {
    return `${ENVELOPE}${this.digest(fullKey, value).toString('hex')}.${value}`;
  }

  /** The value inside a stored entry, or null when the entry is not one this key would hold. */
  private open(fullKey: string, stored: string): string | null {
    const valueAt = ENVELOPE.length + DIGEST_HEX + 1;
    if (!stored.startsWith(ENVELOPE) || stored.length < valueAt || stored[valueAt - 1] !== '.') return null;
    const claimed = Buffer.from(stored.slice(ENVELOPE.length, valueAt - 1), 'hex');
    if (claimed.length !== DIGEST_HEX / 2) return null;
    const value = stored.slice(valueAt);
    return timingSafeEqual(claimed, this.digest(fullKey, value)) ? value : null;
  }
}
