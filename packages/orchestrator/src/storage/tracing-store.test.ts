import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, expect, it } from 'vitest';
import { setUpTracing } from '../observability/tracing/tracing.js';
import { describeStoreContract } from './contract.test-suite.js';
import { MemoryStore } from './memory/memory-store.js';
import { TracingStore } from './tracing-store.js';

// The decorator the composition root installs when tracing is on must honour the whole contract:
// it is the store every request reaches in a traced deployment.
const exporter = new InMemorySpanExporter();
const tracing = setUpTracing({ exporter, serviceName: 'nestor-contract' });
afterAll(() => tracing.shutdown());

describeStoreContract('memory behind the tracing decorator', async () => ({
  store: new TracingStore({ inner: new MemoryStore(), tracer: tracing.tracer, system: 'memory' }),
}));

it('recorded a store span for the calls of the contract suite', () => {
  const names = new Set(exporter.getFinishedSpans().map((s) => s.name));
  expect(names.has('store.createComponent')).toBe(true);
  expect(names.has('store.getComponent')).toBe(true);
});
