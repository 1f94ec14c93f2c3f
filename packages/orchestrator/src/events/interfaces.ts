/**
 * Wakes readers of the event log when it grows. Carries only the new head sequence: readers then
 * read the durable log from their own position, so a lost notification delays but never loses an
 * event.
 */
export interface ChangeFeed {
  /** Announces that the log's head is at least `head`. */
  publish(head: number): void;
  /** Calls `listener` on every announcement; returns the unsubscribe function. */
  subscribe(listener: (head: number) => void): () => void;
}
