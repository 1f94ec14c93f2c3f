import type { ChangeFeed } from './interfaces.js';

/** In-process ChangeFeed: enough for one replica; the Redis feed extends it across replicas. */
export class LocalChangeFeed implements ChangeFeed {
  private readonly listeners = new Set<(head: number) => void>();

  publish(head: number): void {
    for (const listener of this.listeners) listener(head);
  }

  subscribe(listener: (head: number) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
