import client from 'prom-client';
import type { Counter, Gauge, Histogram, Labels, Metrics } from './interfaces.js';

/** Prometheus-backed metrics with their own registry (never the global one, so tests stay isolated). */
export class PromMetrics implements Metrics {
  readonly registry = new client.Registry();
  private readonly instruments = new Map<string, unknown>();

  constructor(opts: { defaultMetrics?: boolean; prefix?: string } = {}) {
    if (opts.defaultMetrics !== false) client.collectDefaultMetrics({ register: this.registry });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    const c = this.once(name, () => new client.Counter({ name, help, labelNames, registers: [this.registry] }));
    return { inc: (labels: Labels = {}, value = 1) => c.inc(labels, value) };
  }

  histogram(name: string, help: string, labelNames: string[] = [], buckets?: number[]): Histogram {
    const h = this.once(
      name,
      () =>
        new client.Histogram({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) }),
    );
    return { observe: (labels: Labels, value: number) => h.observe(labels, value) };
  }

  gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    const g = this.once(name, () => new client.Gauge({ name, help, labelNames, registers: [this.registry] }));
    return {
      set: (labels: Labels, value: number) => g.set(labels, value),
      inc: (labels: Labels = {}, value = 1) => g.inc(labels, value),
      dec: (labels: Labels = {}, value = 1) => g.dec(labels, value),
    };
  }

  observableGauge(name: string, help: string, read: () => number | Promise<number>): void {
    this.once(
      name,
      () =>
        new client.Gauge({
          name,
          help,
          registers: [this.registry],
          async collect() {
            this.set(await read());
          },
        }),
    );
  }

  /** The exposition text for `/metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private once<T>(name: string, make: () => T): T {
    let existing = this.instruments.get(name) as T | undefined;
    if (!existing) {
      existing = make();
      this.instruments.set(name, existing);
    }
    return existing;
  }
}

const noop = () => {};

/** Metrics that record nothing: the default for components built outside the server. */
export const noopMetrics: Metrics = {
  counter: () => ({ inc: noop }),
  histogram: () => ({ observe: noop }),
  gauge: () => ({ set: noop, inc: noop, dec: noop }),
  observableGauge: noop,
};
