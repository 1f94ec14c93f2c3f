import type { CatalogRevision } from './cache/interfaces.js';
import type { EventLog } from './interfaces.js';

/**
 * The revision without a store cache: every read goes to the store, which reflects every event up
 * to the log's head, so the head is the revision; nothing is cached, so nothing is invalidated.
 */
export class LogHeadRevision implements CatalogRevision {
  private readonly log: Pick<EventLog, 'headSequence' | 'headSequenceNow'>;

  constructor(opts: { log: Pick<EventLog, 'headSequence' | 'headSequenceNow'> }) {
    this.log = opts.log;
  }

  /** At once when the store reads its head synchronously (SQLite), through a promise otherwise. */
  current(): number | Promise<number> {
    return this.log.headSequenceNow ? this.log.headSequenceNow() : this.log.headSequence();
  }

  generation(): number {
    return 0;
  }
}
