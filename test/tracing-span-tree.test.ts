import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { createLogger } from '../packages/orchestrator/src/observability/logging/logger.js';
import { traceLogFields } from '../packages/orchestrator/src/observability/tracing/tracing.js';
import { AUTH, component, testConfig, uniqueName } from './helpers.js';

const exporter = new InMemorySpanExporter();
const lines: Record<string, unknown>[] = [];
let app: App;
let dir: string;

beforeAll(async () => {
  const built = testConfig();
  dir = built.dir;
  // A directory source with one component, so a sync can be traced.
  const folder = join(dir, 'components');
  mkdirSync(folder);
  writeFileSync(
    join(folder, 'component.yaml'),
    'name: traced-sync\nversion: 1.0.0\nprovider: k8s\ncategory: cache\nresource_type: redis\n',
  );
  built.config.sources = [
    {
      name: 'traced',
      type: 'directory',
      url: null,
      path: folder,
      branch: 'main',
      paths: ['**/component.yaml'],
      interval_ms: 0,
      webhook_secret_env: null,
      token_env: null,
      ssh_key_path: null,
    },
  ];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ level: 'info', mixin: traceLogFields }, sink);
  app = await buildApp(built.config, { spanExporter: exporter, logger, env: {} });
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('tracing', () => {
  it('one create produces an HTTP span whose children are validation, store calls and the event publish', async () => {
    exporter.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const name = uniqueName('traced');
    const res = await app.server.inject({
      method: 'POST',
      url: '/v1/components',
      headers: { ...AUTH.write, 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      payload: JSON.stringify(component({ name })),
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-trace-id']).toBe(traceId);
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const root = spans.find((s) => s.name === 'POST /v1/components');
    expect(root).toBeDefined();
    expect(parentOf(root as ReadableSpan)).toBe(callerSpan);
    expect(root?.attributes['http.response.status_code']).toBe(201);
    const rootId = root?.spanContext().spanId;
    const children = spans.filter((s) => parentOf(s) === rootId).map((s) => s.name);
    expect(children).toContain('validation.validate');
    expect(children).toContain('store.createComponent');
    expect(children).toContain('events.publish');
    const validation = spans.find((s) => s.name === 'validation.validate');
    expect(validation?.attributes['nestor.validation.valid']).toBe(true);
    // Store reads made by validation nest under the validation span.
    const underValidation = spans.filter((s) => parentOf(s) === validation?.spanContext().spanId);
    expect(underValidation.every((s) => s.name.startsWith('store.'))).toBe(true);
    // Every log line written for the request carries its trace id.
    const logged = lines.filter((l) => l['component'] === name || l['msg'] === 'component version created');
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line['trace_id']).toBe(traceId);
  });

  it('starts a new trace without traceparent and records failures', async () => {
    exporter.reset();
    const res = await app.server.inject({ method: 'GET', url: '/v1/components/nope-nope' });
    expect(res.statusCode).toBe(404);
    const root = exporter.getFinishedSpans().find((s) => s.name === 'GET /v1/components/:name');
    expect(root).toBeDefined();
    expect(root?.parentSpanContext).toBeUndefined();
    expect(root?.attributes['http.response.status_code']).toBe(404);
  });

  it('a source sync is a sync.source span with the component writes beneath it', async () => {
    exporter.reset();
    const res = await app.server.inject({ method: 'POST', url: '/v1/sources/traced/sync', headers: AUTH.admin });
    expect(res.statusCode).toBe(202);
    let sync: ReadableSpan | undefined;
    for (let i = 0; i < 100 && !sync; i++) {
      await new Promise((r) => setTimeout(r, 20));
      sync = exporter.getFinishedSpans().find((s) => s.name === 'sync.source');
    }
    expect(sync?.attributes['nestor.source']).toBe('traced');
    const traceId = sync?.spanContext().traceId;
    const inTrace = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    expect(inTrace.map((s) => s.name)).toContain('store.createComponent');
  });
});
