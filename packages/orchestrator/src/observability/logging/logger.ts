import { pino } from 'pino';

/** The structured logger every package takes. Only pino's interface, so tests can pass `silentLogger`. */
export type Logger = pino.Logger;

export interface LoggerOptions {
  level: string;
  /** Extra fields on every line (e.g. service name). */
  base?: Record<string, unknown>;
  /** Fields computed for every line (tracing adds the active trace and span ids). */
  mixin?: () => Record<string, unknown>;
}

/** JSON lines on stdout. Secrets in well-known places are redacted. */
export function createLogger(opts: LoggerOptions, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: 'nestor-orchestrator', ...opts.base },
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-gitlab-token"]', 'token', 'secret', '*.token', '*.secret'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(opts.mixin ? { mixin: opts.mixin } : {}),
    },
    destination,
  );
}

/** A logger that writes nothing, for tests and tools. */
export const silentLogger: Logger = pino({ level: 'silent' });
