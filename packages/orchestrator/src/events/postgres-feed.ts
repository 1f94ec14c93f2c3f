import pg from 'pg';
import type { Logger } from '../observability/logging/logger.js';
import { silentLogger } from '../observability/logging/logger.js';
import { LocalChangeFeed, pollHead } from './change-feed.js';
import type { ChangeFeed } from './interfaces.js';

export interface PostgresChangeFeedOptions {
  /** The database the store writes to. */
  url: string;
  /** The channel the store NOTIFYs on every committed append (`PostgresStore.channel`). */
  channel: string;
  /**
   * Reads the durable log's head. The feed polls it every `pollMs` too, so a notification missed
   * while the LISTEN connection was down delays delivery by at most one interval.
   */
  head?: () => Promise<number>;
  pollMs?: number;
  logger?: Logger;
  /** Delay before the first reconnection of the LISTEN connection; doubles up to 10 s. */
  reconnectMs?: number;
}

/**
 * A ChangeFeed across replicas sharing one PostgreSQL database, with no other service. The store
 * NOTIFYs the new head inside each write transaction, so PostgreSQL delivers it on commit, exactly
 * when the event becomes readable; this feed LISTENs on one dedicated connection (reconnected with
 * backoff) and hands heads to local listeners, non-decreasing and each at most once.
 */
export class PostgresChangeFeed implements ChangeFeed {
  private readonly local = new LocalChangeFeed();
  private readonly opts: PostgresChangeFeedOptions;
  private readonly logger: Logger;
  private readonly stopPolling: () => void;
  private client: pg.Client | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private delay: number;
  private closed = false;
  private delivered = 0;
  private listening: Promise<void> | null = null;

  constructor(opts: PostgresChangeFeedOptions) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.delay = opts.reconnectMs ?? 250;
    this.stopPolling = opts.head
      ? pollHead(opts.head, opts.pollMs ?? 1000, (head) => this.deliver(head), this.logger)
      : () => {};
    this.listening = this.listen();
  }

  /** Resolves once the first LISTEN is in place (or failed; reconnection continues regardless). */
  ready(): Promise<void> {
    return this.listening ?? Promise.resolve();
  }

  /** Local listeners hear at once; other replicas hear from the store's NOTIFY at commit. */
  publish(head: number): void {
    this.deliver(head);
  }

  subscribe(listener: (head: number) => void): () => void {
    return this.local.subscribe(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.opts.url,
      application_name: `feed:${this.opts.channel}`.slice(0, 63),
    });
    client.on('notification', (msg) => {
      if (msg.channel !== this.opts.channel) return;
      const head = Number(msg.payload);
      if (Number.isSafeInteger(head) && head > 0) this.deliver(head);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('LISTEN connection ended')));
    try {
      await client.connect();
      if (this.closed) {
        await client.end();
        return;
      }
      await client.query(`LISTEN "${this.opts.channel.replaceAll('"', '""')}"`);
      this.client = client;
      this.delay = this.opts.reconnectMs ?? 250;
      // Whatever was appended while not listening is picked up from the log's head right away.
      if (this.opts.head) this.deliver(await this.opts.head());
    } catch (err) {
      this.lost(client, err);
    }
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.closed || this.reconnectTimer) return;
    if (this.client === client) this.client = null;
    client.end().catch(() => {});
    this.logger.warn({ err, retryMs: this.delay }, 'PostgreSQL LISTEN connection lost; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.listening = this.listen();
    }, this.delay);
    this.reconnectTimer.unref();
    this.delay = Math.min(this.delay * 2, 10_000);
  }

  private deliver(head: number): void {
    if (head <= this.delivered) return;
    this.delivered = head;
    this.local.publish(head);
  }
}
