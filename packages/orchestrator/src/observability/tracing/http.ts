import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * A SERVER span per HTTP request, child of the caller's W3C `traceparent` when there is one. The
 * rest of the request (auth, handler, store calls) runs inside the span's context, so their spans
 * nest under it and log lines carry its trace id. Register before any other hook.
 */
export function registerTracingHooks(app: FastifyInstance, tracer: Tracer): void {
  const spans = new WeakMap<FastifyRequest, Span>();

  app.addHook('onRequest', (req, reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const route = req.routeOptions.url;
    const span = tracer.startSpan(
      route ? `${req.method} ${route}` : req.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          'url.path': req.url.split('?')[0] ?? req.url,
          ...(route ? { 'http.route': route } : {}),
          'nestor.request_id': String(req.id),
        },
      },
      parent,
    );
    spans.set(req, span);
    reply.header('x-trace-id', span.spanContext().traceId);
    context.with(trace.setSpan(parent, span), done);
  });

  app.addHook('onError', (req, _reply, err, done) => {
    spans.get(req)?.recordException(err);
    done();
  });

  const finish = (req: FastifyRequest, status: number | null) => {
    const span = spans.get(req);
    if (!span) return;
    spans.delete(req);
    if (status === null) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted' });
    } else {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  app.addHook('onResponse', (req, reply, done) => {
    finish(req, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    finish(req, null);
    done();
  });
}
