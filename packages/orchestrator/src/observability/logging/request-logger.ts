import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

/**
 * A request's logger (`req.log`) that makes its pino child on the first line written. Fastify makes
 * one child per request for the request id binding, and pino serialises those bindings at once,
 * through the redaction paths (about 0.4 µs and several objects a request); most requests never
 * write a line, so they never pay it. The lines are the same: the child is made from the same
 * parent, bindings and options when it is first needed.
 */
export class DeferredChildLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | null = null;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** Fastify's `childLoggerFactory`. */
  static factory(this: void, logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions) {
    return new DeferredChildLogger(logger, bindings, opts);
  }

  /** The pino child, made on first use. */
  get logger(): FastifyBaseLogger {
    if (this.made === null) this.made = this.parent.child(this.bindings, this.options);
    return this.made;
  }

  get level(): string {
    return this.logger.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  // Methods rather than arrow-function fields: a field would cost every request seven closures.
  fatal(...args: unknown[]): void {
    write(this.logger, 'fatal', args);
  }
  error(...args: unknown[]): void {
    write(this.logger, 'error', args);
  }
  warn(...args: unknown[]): void {
    write(this.logger, 'warn', args);
  }
  info(...args: unknown[]): void {
    write(this.logger, 'info', args);
  }
  debug(...args: unknown[]): void {
    write(this.logger, 'debug', args);
  }
  trace(...args: unknown[]): void {
    write(this.logger, 'trace', args);
  }
  silent(...args: unknown[]): void {
    write(this.logger, 'silent', args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Calls the level's method on the logger itself (pino's methods read their logger from `this`). */
function write(logger: FastifyBaseLogger, level: Level, args: unknown[]): void {
  (logger[level] as (this: FastifyBaseLogger, ...args: unknown[]) => void).apply(logger, args);
}
