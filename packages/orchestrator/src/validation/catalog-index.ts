import type { CatalogEvent } from '@nestor/sdk';
import { type FollowedLog, type LogConsumer, LogFollower } from '../events/log-follower.js';
import { type Logger, silentLogger } from '../observability/logging/logger.js';
import type { ComponentVersioning } from '../storage/interfaces.js';
import { normalizeName } from './rules/common.js';

/** What the index reads: the name list for a full build, the event log to follow changes. */
export type CatalogIndexSource = Pick<ComponentVersioning, 'listComponentNames'> & FollowedLog;

const PAGE = 1_000;
/** Further behind than this, one name listing is cheaper than replaying the log. */
const REPLAY_LIMIT = 20_000;

/**
 * Existing names by their normalised form, so the conflicts rule finds confusable names without
 * listing the whole catalog on every validation. Built once from the name list, then advanced by a
 * log follower replaying `component.created` events (a rebuild from the name list when the log was
 * compacted past it). Names are never deleted, so an index that knows a few names too many
 * (written after the revision asked for) is still exact about every name that existed at it.
 *
 * Component data itself is not kept here: validation reads versions through the store cache,
 * the one cache of component data.
 */
export class CatalogIndex implements LogConsumer {
  private readonly source: CatalogIndexSource;
  /**
   * Names by fold: the one name most folds have as itself, an array past one (names are never
   * deleted). A set per name was three heap objects each that every full collection walked.
   */
  private readonly byFold = new Map<string, string | string[]>();
  private readonly follower: LogFollower;

  constructor(opts: { source: CatalogIndexSource; logger?: Logger }) {
    this.source = opts.source;
    this.follower = new LogFollower({
      log: opts.source,
      consumer: this,
      logger: opts.logger ?? silentLogger,
      position: -1,
      pageSize: PAGE,
      replayLimit: REPLAY_LIMIT,
    });
  }

  /** Existing names other than `name` with the same normalised form, as of revision `head` or later. */
  async similarNames(name: string, head: number): Promise<string[]> {
    await this.follower.catchUp(head);
    const found = this.byFold.get(normalizeName(name));
    if (found === undefined) return [];
    return typeof found === 'string' ? (found === name ? [] : [found]) : found.filter((n) => n !== name).sort();
  }

  /**
   * Builds the index ahead of the first validation that needs it: at 100 000 components the name
   * list and its normal forms cost the first create after start-up ~150–200 ms.
   */
  async warm(): Promise<void> {
    await this.follower.catchUp(await this.source.headSequence());
  }

  onEvents(events: readonly CatalogEvent[]): void {
    for (const event of events) if (event.type === 'component.created') this.add(event.subject.name);
  }

  async onReset(): Promise<void> {
    // The list is read after the head was, so it holds at least every name that existed at it.
    const names = await this.source.listComponentNames();
    this.byFold.clear();
    for (const name of names) this.add(name);
  }

  private add(name: string): void {
    const fold = normalizeName(name);
    const held = this.byFold.get(fold);
    if (held === undefined) this.byFold.set(fold, name);
    else if (typeof held === 'string') {
      if (held !== name) this.byFold.set(fold, [held, name]);
    } else if (!held.includes(name)) held.push(name);
  }
}
