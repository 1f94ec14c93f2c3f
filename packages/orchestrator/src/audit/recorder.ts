import type { Clock } from '../observability/clock.js';
import type { Logger } from '../observability/logging/logger.js';
import { auditId } from '../storage/audit-records.js';
import type { AuditEntry, AuditLog, AuditOutcome } from '../storage/interfaces.js';

/** What a caller knows of a request to record. */
export interface AuditFields {
  actor: string;
  action: string;
  subject: string;
  request_id: string | null;
  ip: string | null;
  outcome: AuditOutcome;
  details?: Record<string, unknown>;
}

/** The outcome an HTTP status records: 401/403 denied, 409/412 conflict, 5xx error, other 4xx invalid. */
export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 'ok';
  if (status === 401 || status === 403) return 'denied';
  if (status === 409 || status === 412) return 'conflict';
  if (status >= 500) return 'error';
  return 'invalid';
}

/**
 * Builds audit entries and records those no write carries (refusals, no-ops), and applies the
 * retention (`audit.retain`) once an hour.
 */
export class AuditRecorder {
  private readonly log: AuditLog;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly retainMs: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(opts: { log: AuditLog; clock: Clock; logger: Logger; retainMs: number }) {
    this.log = opts.log;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.retainMs = opts.retainMs;
  }

  entry(fields: AuditFields): AuditEntry {
    const time = this.clock.now();
    return { id: auditId(time), time: time.toISOString(), details: {}, ...fields };
  }

  /** Records an entry on its own; a failure is logged (the answer has gone out already). */
  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.log.appendAudit(entry);
    } catch (err) {
      this.logger.error({ err, action: entry.action, subject: entry.subject }, 'could not record an audit entry');
    }
  }

  /** Deletes entries older than the retention; returns how many. */
  async prune(): Promise<number> {
    return this.log.pruneAudit(new Date(this.clock.now().getTime() - this.retainMs).toISOString());
  }

  start(intervalMs = 3_600_000): void {
    if (this.timer) return;
    const run = () =>
      this.prune().catch((err: unknown) => this.logger.warn({ err }, 'audit retention failed; retrying later'));
    void run();
    this.timer = setInterval(run, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
