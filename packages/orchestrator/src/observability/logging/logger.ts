import { pino } from 'pino';
import { PinoPretty } from 'pino-pretty';

/** The structured logger every package takes. Only pino's interface, so tests can pass `silentLogger`. */
export type Logger = pino.Logger;

export interface LoggerOptions {
  level: string;
  /** Extra fields on every line (e.g. service name). */
  base?: Record<string, unknown>;
  /** Fields computed for every line (tracing adds the active trace and span ids). */
  mixin?: () => Record<string, unknown>;
  /** Readable lines for a person at a terminal instead of JSON (the caller decides when). */
  pretty?: boolean;
}

/** JSON lines on stdout (or readable lines with `pretty`). Secrets in well-known places are redacted. */
export function createLogger(opts: LoggerOptions, destination?: pino.DestinationStream): Logger {
  // In-process and synchronous rather than a worker transport: the lines stay in order with the
  // CLI's own notes, and nothing is lost when the process exits.
  const out = opts.pretty
    ? PinoPretty({
        destination: destination ?? 1,
        colorize: destination === undefined && process.stdout.isTTY === true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,service',
        sync: true,
      })
    : destination;
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
    out,
  );
}

/** A logger that writes nothing, for tests and tools. */
export const silentLogger: Logger = pino({ level: 'silent' });
