import type { ComponentSpec } from '@nestor/sdk';
import { NestorError, type ValidationIssue } from '@nestor/sdk';
import { orderForWrite } from './write-order.js';

/** One component to write, with what the loop needs to order it. */
export interface OrderedItem {
  parsed: { spec: ComponentSpec };
}

export interface OrderedWriteOptions<T extends OrderedItem> {
  /** Writes one item; throws when it cannot be written. */
  write(item: T): Promise<{ created: boolean }>;
  /**
   * Called once for each item whose write finally failed. Returns false when the failure was not
   * the item's fault (the batch is then incomplete); may throw to stop the batch.
   */
  failed(item: T, err: unknown): boolean;
  /** Stops between writes; the batch is then incomplete. */
  signal?: AbortSignal | undefined;
  /** Called every `progressEvery` writes, and once at the end. */
  onProgress?: ((done: number, total: number) => void) | undefined;
  progressEvery?: number;
}

/** What one ordered batch did. */
export interface OrderedWriteResult {
  created: number;
  unchanged: number;
  /** False when stopped by the signal or when a failure was not the item's fault. */
  complete: boolean;
}

/**
 * The ordered create loop, shared by source syncs and `nestor validate`: writes a batch in
 * dependency order (`orderForWrite`); items that failed only because a dependency was missing are
 * retried while the previous pass wrote something (a dependency may sit later in a cycle-broken
 * order or arrive from another file of the batch). Every write of a sync goes through here, so
 * what a batch does as a whole (one changeset, marking what vanished) belongs here too.
 */
export async function writeInOrder<T extends OrderedItem>(
  items: T[],
  opts: OrderedWriteOptions<T>,
): Promise<OrderedWriteResult> {
  const every = opts.progressEvery ?? 1000;
  const result: OrderedWriteResult = { created: 0, unchanged: 0, complete: true };
  let pending = orderForWrite(items);
  const total = pending.length;
  let done = 0;
  opts.onProgress?.(0, total);
  for (;;) {
    const retry: { item: T; err: unknown }[] = [];
    let createdThisPass = 0;
    for (const item of pending) {
      if (opts.signal?.aborted) return { ...result, complete: false };
      try {
        const outcome = await opts.write(item);
        if (outcome.created) {
          result.created += 1;
          createdThisPass += 1;
        } else result.unchanged += 1;
        done += 1;
      } catch (err) {
        if (NestorError.hasCode(err, 'validation_failed') && missingDependency(err.errors)) {
          retry.push({ item, err });
          continue;
        }
        done += 1;
        if (!opts.failed(item, err)) result.complete = false;
      }
      if (done % every === 0) opts.onProgress?.(done, total);
    }
    if (retry.length === 0) break;
    if (createdThisPass === 0) {
      for (const { item, err } of retry) {
        done += 1;
        if (!opts.failed(item, err)) result.complete = false;
      }
      break;
    }
    pending = retry.map((r) => r.item);
  }
  opts.onProgress?.(done, total);
  return result;
}

function missingDependency(issues: ValidationIssue[]): boolean {
  return issues.length > 0 && issues.every((i) => i.rule === 'dependencies' || /dependenc/.test(i.code));
}
