import type { CatalogRevision } from './cache/interfaces.js';
import type { EventLog } from './interfaces.js';

/**
 * The revision without a store cache: every read goes to the store, which reflects every event up
 * to the log's head, so the head is the revision; nothing is cached, so nothing is invalidated.
 *
 * A store that reads its head synchronously (SQLite) is asked on every request. Any other store
 * (PostgreSQL, DynamoDB) is asked once; from then on the revision is the newest head the change
 * feed announced: this process's writes as they return, other processes' at their commit
 * (PostgreSQL's NOTIFY, Redis) or within the feed's one-second poll of the head. An announced head
 * is committed, so every read made after it shows it: the revision can lag the data, never lead it
 * (decision 4), and a request costs no round trip for it.
 */
/** What this needs of a change feed (events/interfaces.ts ChangeFeed; storage sits below events). */
export interface HeadAnnouncements {
  /** Calls `listener` with every head announced; returns the unsubscribe function. */
  subscribe(listener: (head: number) => void): () => void;
}

export class LogHeadRevision implements CatalogRevision {
  private readonly log: Pick<EventLog, 'headSequence' | 'headSequenceNow'>;
  /** The newest head known to be committed, once one is known. */
  private known: number | null = null;
  private firstRead: Promise<number> | null = null;
  private readonly following: boolean;
  private readonly unsubscribe: () => void;

  constructor(opts: { log: Pick<EventLog, 'headSequence' | 'headSequenceNow'>; feed?: HeadAnnouncements }) {
    this.log = opts.log;
    this.following = opts.feed !== undefined && !opts.log.headSequenceNow;
    this.unsubscribe = this.following && opts.feed ? opts.feed.subscribe((head) => this.heard(head)) : () => {};
  }

  current(): number | Promise<number> {
    if (this.log.headSequenceNow) return this.log.headSequenceNow();
    // Without a feed nothing would move a held head: every request reads it.
    if (!this.following) return this.log.headSequence();
    if (this.known !== null) return this.known;
    // Until the first read answers, requests share it; a failed read is retried by the next request.
    if (this.firstRead) return this.firstRead;
    const read = this.log.headSequence().then(
      (head) => {
        this.heard(head);
        return this.known ?? head;
      },
      (err: unknown) => {
        this.firstRead = null;
        throw err;
      },
    );
    this.firstRead = read;
    return read;
  }

  generation(): number {
    return 0;
  }

  /** Stops following the feed. */
  close(): void {
    this.unsubscribe();
  }

  private heard(head: number): void {
    if (this.known === null || head > this.known) this.known = head;
  }
}
