/** Label values by label name. */
export type Labels = Record<string, string>;

export interface Counter {
  inc(labels?: Labels, value?: number): void;
}

export interface Histogram {
  /** Records one observation in seconds (durations) or units (sizes). */
  observe(labels: Labels, value: number): void;
}

export interface Gauge {
  set(labels: Labels, value: number): void;
  inc(labels?: Labels, value?: number): void;
  dec(labels?: Labels, value?: number): void;
}

/**
 * The metrics port. Domain code asks it for instruments by name; asking twice for the same name
 * returns the same instrument. The Prometheus implementation backs `/metrics`; tests use the no-op.
 */
export interface Metrics {
  counter(name: string, help: string, labelNames?: string[]): Counter;
  histogram(name: string, help: string, labelNames?: string[], buckets?: number[]): Histogram;
  gauge(name: string, help: string, labelNames?: string[]): Gauge;
  /** A gauge whose value is read when scraped. */
  observableGauge(name: string, help: string, read: () => number | Promise<number>): void;
}
