import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PromMetrics } from './metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const LABELS = ['route', 'method', 'status'];

/** The same observations through PromMetrics and through a plain prom-client histogram. */
function pair() {
  const metrics = new PromMetrics({ defaultMetrics: false });
  const ours = metrics.histogram('h', 'help', LABELS, BUCKETS);
  const registry = new client.Registry();
  const theirs = new client.Histogram({
    name: 'h',
    help: 'help',
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [registry],
  });
  const observe = (labels: Record<string, string>, value: number) => {
    ours.observe({ ...labels }, value);
    theirs.observe({ ...labels }, value);
  };
  return { metrics, registry, observe };
}

const a = { route: '/v1/components/:name', method: 'GET', status: '200' };
const b = { route: '/v1/components/:name', method: 'GET', status: '404' };
const c = { route: 'unmatched', method: 'POST', status: '404' };

describe('PromMetrics histogram', () => {
  it('exposes what prom-client exposes for the same observations, repeated label sets included', async () => {
    const { metrics, registry, observe } = pair();
    const values = [0.0005, 0.001, 0.002, 0.05, 0.5, 1, 3, 0];
    for (let round = 0; round < 3; round++) {
      for (const [i, v] of values.entries()) observe([a, b, c][(i + round) % 3] as typeof a, v);
    }
    expect((await metrics.render()).body).toBe(await registry.metrics());
  });

  it('starts over after a registry reset and counts again from the next observation', async () => {
    const { metrics, registry, observe } = pair();
    observe(a, 0.002);
    observe(a, 0.2);
    metrics.registry.resetMetrics();
    registry.resetMetrics();
    observe(a, 0.02);
    observe(b, 2);
    observe(a, 0.0001);
    expect((await metrics.render()).body).toBe(await registry.metrics());
    expect((await metrics.render()).body).toContain(
      'h_count{route="/v1/components/:name",method="GET",status="200"} 2',
    );
  });

  it('still refuses what prom-client refuses once a series is known', () => {
    const { metrics } = pair();
    const h = metrics.histogram('h', 'help', LABELS, BUCKETS);
    h.observe(a, 0.1);
    h.observe(a, 0.1);
    expect(() => h.observe(a, Number.NaN)).toThrow(TypeError);
    expect(() => h.observe({ ...a, extra: 'x' }, 0.1)).toThrow();
  });
});
