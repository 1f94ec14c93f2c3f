import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { DeferredChildLogger } from './request-logger.js';

/** A logger writing JSON lines into an array. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info' }, out) };
}

describe('DeferredChildLogger', () => {
  it('makes no pino child until a line is written, then writes it with the bindings and redaction', () => {
    const { lines, logger } = capture();
    let made = 0;
    const parent = new Proxy(logger, {
      get(target, prop, receiver) {
        if (prop === 'child') {
          return (...args: Parameters<typeof logger.child>) => {
            made++;
            return target.child(...args);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const log = DeferredChildLogger.factory(parent as FastifyBaseLogger, { reqId: 'r-1' }, {});
    expect(made).toBe(0);
    log.debug('below the level');
    log.info({ token: 'secret-value', n: 1 }, 'first %s', 'line');
    log.warn('second');
    expect(made).toBe(1);
    expect(lines.map((l) => [l['level'], l['msg'], l['reqId']])).toEqual([
      [30, 'first line', 'r-1'],
      [40, 'second', 'r-1'],
    ]);
    expect(lines[0]?.['token']).toBe('[redacted]');
    expect(log.level).toBe('info');
    log.child({ extra: 'x' }).error('third');
    expect(lines[2]).toMatchObject({ level: 50, msg: 'third', reqId: 'r-1', extra: 'x' });
  });

  it('is what Fastify hands a route as req.log, with the request id bound', async () => {
    const { lines, logger } = capture();
    const app = Fastify({
      loggerInstance: logger,
      childLoggerFactory: DeferredChildLogger.factory,
      logController: new Fastify.LogController({ disableRequestLogging: true }),
    });
    app.get('/', async (req) => {
      expect(req.log).toBeInstanceOf(DeferredChildLogger);
      req.log.warn('from the route');
      return 'ok';
    });
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(lines).toEqual([expect.objectContaining({ msg: 'from the route', reqId: expect.any(String) })]);
    await app.close();
  });
});
