import type { ComponentVersioning, EventLog } from '../storage/interfaces.js';
import { normalizeName } from './rules/common.js';

/** What the index reads: the name list for a full build, the event log to follow new names. */
export type NameIndexSource = Pick<ComponentVersioning, 'listComponentNames'> &
  Pick<EventLog, 'readEvents' | 'oldestSequence'>;

const PAGE = 1_000;
/** Further behind than this, one name listing is cheaper than replaying the log. */
const REPLAY_LIMIT = 20_000;

/**
 * Existing names by their normalised form, so the conflicts rule finds confusable names without
 * listing the whole catalog on every validation. Built once from the name list, then advanced by
 * replaying `component.created` events up to the revision a validation asks for. Names are never
 * deleted, so an index that knows a few names too many (written after that revision) is still
 * exact about every name that existed at it.
 */
export class NameIndex {
  private readonly source: NameIndexSource;
  private readonly byFold = new Map<string, Set<string>>();
  /** Revision the index is complete for; -1 before the first build. */
  private position = -1;
  private advancing: Promise<void> | null = null;

  constructor(opts: { source: NameIndexSource }) {
    this.source = opts.source;
  }

  /** Existing names other than `name` with the same normalised form, as of revision `head` or later. */
  async similarNames(name: string, head: number): Promise<string[]> {
    while (this.position < head) {
      if (!this.advancing) {
        this.advancing = this.advance(head).finally(() => {
          this.advancing = null;
        });
      }
      await this.advancing;
    }
    const found = this.byFold.get(normalizeName(name));
    return found ? [...found].filter((n) => n !== name).sort() : [];
  }

  private add(name: string): void {
    const fold = normalizeName(name);
    let set = this.byFold.get(fold);
    if (!set) {
      set = new Set();
      this.byFold.set(fold, set);
    }
    set.add(name);
  }

  private async advance(head: number): Promise<void> {
    const behind = this.position < 0 || head - this.position > REPLAY_LIMIT;
    if (behind || (await this.source.oldestSequence()) > this.position + 1) {
      await this.rebuild(head);
      return;
    }
    while (this.position < head) {
      const events = await this.source.readEvents(this.position, PAGE);
      const last = events.at(-1);
      if (!last) {
        // Compacted away between the check and the read: start over from the name list.
        await this.rebuild(head);
        return;
      }
      for (const event of events) if (event.type === 'component.created') this.add(event.subject.name);
      this.position = last.id;
    }
  }

  private async rebuild(head: number): Promise<void> {
    // The list is read after `head` was, so it holds at least every name that existed at `head`.
    const names = await this.source.listComponentNames();
    this.byFold.clear();
    for (const name of names) this.add(name);
    this.position = head;
  }
}
