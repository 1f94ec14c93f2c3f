import type { Tracer } from '@opentelemetry/api';
import type { ChangeFeed } from './interfaces.js';

/** `events.publish` for every head announced on the feed. */
export class TracingChangeFeed implements ChangeFeed {
  private readonly inner: ChangeFeed;
  private readonly tracer: Tracer;

  constructor(opts: { inner: ChangeFeed; tracer: Tracer }) {
    this.inner = opts.inner;
    this.tracer = opts.tracer;
  }

  publish(head: number): void {
    const span = this.tracer.startSpan('events.publish', { attributes: { 'nestor.event.head': head } });
    try {
      this.inner.publish(head);
    } finally {
      span.end();
    }
  }

  subscribe(listener: (head: number) => void): () => void {
    return this.inner.subscribe(listener);
  }
}
