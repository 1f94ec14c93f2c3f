import type { Tracer } from '@opentelemetry/api';
import { withSpan } from '../../observability/tracing/tracing.js';
import type { SharedCache } from './interfaces.js';

/** `cache.shared.<op>` around the shared (Redis) cache's calls. */
export class TracingSharedCache implements SharedCache {
  private readonly inner: SharedCache;
  private readonly tracer: Tracer;

  constructor(opts: { inner: SharedCache; tracer: Tracer }) {
    this.inner = opts.inner;
    this.tracer = opts.tracer;
  }

  get(key: string): Promise<string | null> {
    return withSpan(this.tracer, 'cache.shared.get', { 'db.system': 'redis' }, async (span) => {
      const value = await this.inner.get(key);
      span.setAttribute('nestor.cache.hit', value !== null);
      return value;
    });
  }
  set(key: string, value: string, ttlMs: number): Promise<void> {
    return withSpan(this.tracer, 'cache.shared.set', { 'db.system': 'redis' }, () => this.inner.set(key, value, ttlMs));
  }
  delete(keys: string[]): Promise<void> {
    return withSpan(
      this.tracer,
      'cache.shared.delete',
      { 'db.system': 'redis', 'nestor.cache.keys': keys.length },
      () => this.inner.delete(keys),
    );
  }
}
