import { type Attributes, context, type Span, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';

/** The tracer the orchestrator's pieces take, and whether anything records. */
export interface Tracing {
  /** False when no exporter is configured: nothing is instrumented, at no cost. */
  enabled: boolean;
  tracer: Tracer;
  /** Flushes pending spans and stops exporting. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** OTLP/HTTP base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<endpoint>/v1/traces`. */
  endpoint?: string | null | undefined;
  /** Full traces URL (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); wins over `endpoint`. */
  tracesUrl?: string | null | undefined;
  /** An exporter to use instead of OTLP (tests: InMemorySpanExporter); spans are exported at once. */
  exporter?: SpanExporter | undefined;
  serviceName?: string;
  serviceVersion?: string;
}

/** Tracing switched off: the API's no-op tracer, nothing registered. */
const disabledTracing: Tracing = {
  enabled: false,
  tracer: trace.getTracer('nestor-disabled'),
  shutdown: async () => {},
};

let registered = false;

/**
 * Tracing from the standard OTLP settings. Without an endpoint or exporter it returns
 * `disabledTracing`, and the composition root then installs no hooks or decorators at all.
 * The first enabled set-up in a process registers the global context manager and W3C propagator
 * (what carries `traceparent` in and the active span across awaits); every set-up hands out its
 * own tracer, so several apps in one test process never share spans.
 */
export function setUpTracing(opts: TracingOptions): Tracing {
  const tracesUrl = opts.tracesUrl ?? (opts.endpoint ? `${opts.endpoint.replace(/\/+$/, '')}/v1/traces` : null);
  if (!opts.exporter && !tracesUrl) return disabledTracing;
  const processor = opts.exporter
    ? new SimpleSpanProcessor(opts.exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl as string }));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': opts.serviceName ?? 'nestor-orchestrator',
      'service.version': opts.serviceVersion ?? '0.0.0',
    }),
    spanProcessors: [processor],
  });
  if (!registered) {
    provider.register();
    registered = true;
  }
  return {
    enabled: true,
    tracer: provider.getTracer('nestor-orchestrator', opts.serviceVersion),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * Runs `fn` inside a new active span (so spans started below become its children); records a
 * thrown error on the span and rethrows it.
 */
export function withSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string') span.setAttribute('nestor.error.code', code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Pino mixin: the active trace and span ids on every log line written inside a span. */
export function traceLogFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
