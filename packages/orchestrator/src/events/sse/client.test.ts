import type { CatalogEvent } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { type SseSink, SseSubscriber } from './client.js';
import { encodeEvent, HEARTBEAT } from './events.js';

/** A transport that takes every write (or refuses them while `full`) and keeps them in order. */
function recordingSink() {
  const writes: string[] = [];
  const state = { full: false };
  const sink: SseSink = {
    write: (chunk) => {
      writes.push(chunk);
      return !state.full;
    },
    end: () => {},
    destroy: () => {},
    bufferedBytes: 0,
    onDrain: () => {},
    onClose: () => {},
  };
  return { sink, writes, state };
}

function liveSubscriber(sink: SseSink): SseSubscriber {
  const s = new SseSubscriber({
    id: 1,
    sink,
    filter: {},
    position: 0,
    bufferLimit: 10,
    closeGraceMs: 100,
    onClosed: () => {},
  });
  s.goLive();
  return s;
}

function event(id: number): CatalogEvent {
  return {
    id,
    type: 'source.synced',
    time: '2026-12-04T10:00:00.000Z',
    subject: { name: 'git-main', version: null, digest: null },
    data: {},
  };
}

function pushEvent(s: SseSubscriber, id: number): void {
  const frame = encodeEvent(event(id));
  s.push([event(id)], [frame], () => frame);
}

const heartbeats = (writes: string[]) => writes.filter((w) => w === HEARTBEAT).length;

describe('SseSubscriber heartbeats (the broker sweeps every half interval)', () => {
  it('an idle stream gets a heartbeat every other sweep: one an interval', () => {
    const { sink, writes } = recordingSink();
    const s = liveSubscriber(sink);
    for (let sweep = 0; sweep < 6; sweep++) s.heartbeat();
    expect(writes).toEqual([HEARTBEAT, HEARTBEAT, HEARTBEAT]);
  });

  it('a stream that carries events gets none', () => {
    const { sink, writes } = recordingSink();
    const s = liveSubscriber(sink);
    for (let id = 1; id <= 5; id++) {
      pushEvent(s, id);
      s.heartbeat();
    }
    expect(heartbeats(writes)).toBe(0);
    expect(writes).toHaveLength(5);
  });

  it('is never silent for a whole interval: an event then idle gets its heartbeat at the second sweep', () => {
    const { sink, writes } = recordingSink();
    const s = liveSubscriber(sink);
    pushEvent(s, 1);
    s.heartbeat(); // the event went out since the last sweep: nothing
    expect(heartbeats(writes)).toBe(0);
    s.heartbeat(); // a half interval with nothing written: a heartbeat
    expect(heartbeats(writes)).toBe(1);
  });

  it('writes nothing behind a full transport', () => {
    const { sink, writes, state } = recordingSink();
    const s = liveSubscriber(sink);
    state.full = true;
    pushEvent(s, 1);
    for (let sweep = 0; sweep < 4; sweep++) s.heartbeat();
    expect(heartbeats(writes)).toBe(0);
  });
});
