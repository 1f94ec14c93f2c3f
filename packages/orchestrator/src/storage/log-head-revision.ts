import type { CatalogRevision } from './cache/interfaces.js';
import type { EventLog } from './interfaces.js';

/**
 * The revision without a store cache: every read goes to the store, which reflects every event up
 * to the log's head, so the head is the revision; nothing is cached, so nothing is invalidated.
 */
export class LogHeadRevision implements CatalogRevision {
  private readonly log: Pick<EventLog, 'headSequence'>;

  constructor(opts: { log: Pick<EventLog, 'headSequence'> }) {
    this.log = opts.log;
  }

  current(): Promise<number> {
    return this.log.headSequence();
  }

  generation(): number {
    return 0;
  }
}
