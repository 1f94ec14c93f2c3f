import { describe, expect, it } from 'vitest';
import { LocalChangeFeed } from './change-feed.js';

describe('LocalChangeFeed', () => {
  it('announces heads found by polling the log, each new one once', async () => {
    let head = 3;
    const feed = new LocalChangeFeed({ head: async () => head, pollMs: 10 });
    const heard: number[] = [];
    feed.subscribe((h) => heard.push(h));
    await new Promise((r) => setTimeout(r, 60));
    head = 5;
    await new Promise((r) => setTimeout(r, 60));
    feed.publish(7); // a local write
    await new Promise((r) => setTimeout(r, 60));
    feed.close();
    head = 9;
    await new Promise((r) => setTimeout(r, 60));
    expect(heard).toEqual([3, 5, 7]);
  });

  it('keeps polling after a failed read', async () => {
    let calls = 0;
    const feed = new LocalChangeFeed({
      head: async () => {
        calls++;
        if (calls === 1) throw new Error('busy');
        return 2;
      },
      pollMs: 10,
    });
    const heard: number[] = [];
    feed.subscribe((h) => heard.push(h));
    await new Promise((r) => setTimeout(r, 80));
    feed.close();
    expect(heard).toEqual([2]);
  });

  it('without a head reader only relays what is published', () => {
    const feed = new LocalChangeFeed();
    const heard: number[] = [];
    const unsubscribe = feed.subscribe((h) => heard.push(h));
    feed.publish(1);
    unsubscribe();
    feed.publish(2);
    feed.close();
    expect(heard).toEqual([1]);
  });
});
