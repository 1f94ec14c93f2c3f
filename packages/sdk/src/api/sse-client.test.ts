import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { NestorError } from '../errors/errors.js';
import type { CatalogEvent } from '../events/types.js';
import { CatalogStream, type SseMessage, SseParser, type StreamItem } from './sse-client.js';

function parseAll(chunks: string[]): { messages: SseMessage[]; retries: number[]; ids: string[] } {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const ids: string[] = [];
  const p = new SseParser({
    onMessage: (m) => messages.push(m),
    onRetry: (ms) => retries.push(ms),
    onIdOnly: (id) => ids.push(id),
  });
  for (const c of chunks) p.push(c);
  return { messages, retries, ids };
}

/** Cuts a string at random places. */
function splitAt(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(text.slice(prev, p));
    prev = p;
  }
  out.push(text.slice(prev));
  return out;
}

describe('SseParser', () => {
  it('parses multi-line data, comments, event names, ids and retry', () => {
    const { messages, retries } = parseAll([
      ': comment\n',
      'retry: 1500\nretry: x\n',
      'event: component.created\nid: 7\ndata: {"a":\ndata: 1}\n\n',
      'data:no-space\n\n',
      'data\n\n',
    ]);
    expect(retries).toEqual([1500]);
    expect(messages).toEqual([
      { lastEventId: '7', event: 'component.created', data: '{"a":\n1}' },
      { lastEventId: '7', event: 'message', data: 'no-space' },
      { lastEventId: '7', event: 'message', data: '' },
    ]);
  });

  it('reports an id-only frame and ignores ids with NUL and a leading BOM', () => {
    const { messages, ids } = parseAll(['\ufeffid: 42\n\n', 'id: 4\u00003\ndata: x\n\n']);
    expect(ids).toEqual(['42']);
    expect(messages).toEqual([{ lastEventId: '42', event: 'message', data: 'x' }]);
  });

  it('gives the same messages for any line ending and any chunking', () => {
    const line = fc.stringMatching(/^[a-z0-9 {}":,]{0,20}$/);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            event: fc.constantFrom('a', 'b.c'),
            id: fc.nat(),
            data: fc.array(line, { minLength: 1, maxLength: 3 }),
          }),
          {
            maxLength: 8,
          },
        ),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.array(fc.nat(), { maxLength: 10 }),
        (events, eol, cuts) => {
          const text = events
            .map(
              (e) =>
                `: hb${eol}event: ${e.event}${eol}id: ${e.id}${eol}${e.data.map((d) => `data: ${d}`).join(eol)}${eol}${eol}`,
            )
            .join('');
          const { messages } = parseAll(splitAt(text, cuts));
          expect(messages).toEqual(
            events.map((e) => ({ lastEventId: String(e.id), event: e.event, data: e.data.join('\n') })),
          );
        },
      ),
    );
  });
});

/** A scripted SSE server: each connection gets the next script. */
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

type Script = (req: IncomingMessage, res: ServerResponse) => void;

async function scripted(scripts: Script[]): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    const script = scripts[Math.min(requests.length - 1, scripts.length - 1)] as Script;
    script(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function frame(id: number, extra = ''): string {
  const e: CatalogEvent = {
    id,
    type: 'source.synced',
    time: '2026-01-01T00:00:00.000Z',
    subject: { name: 's', version: null, digest: null },
    data: {},
  };
  return `${extra}id: ${id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });

async function take(stream: CatalogStream, n: number): Promise<StreamItem[]> {
  const items: StreamItem[] = [];
  for await (const item of stream) {
    items.push(item);
    if (items.length >= n) break;
  }
  return items;
}

describe('CatalogStream', () => {
  it('reconnects after a dropped connection and resumes after the last id without duplicates', async () => {
    const { url, requests } = await scripted([
      (_req, res) => {
        sse(res);
        res.write(`retry: 5\n${frame(1)}${frame(2)}`);
        setTimeout(() => res.destroy(), 20);
      },
      (_req, res) => {
        sse(res);
        // A server that repeats an event the client already has: the client must not deliver it.
        res.end(frame(2) + frame(3));
      },
      (_req, res) => {
        sse(res);
        res.write(frame(4));
      },
    ]);
    const stream = new CatalogStream({ baseUrl: url, token: 't0k', since: 0, backoff: { initialMs: 5, maxMs: 20 } });
    const items = await take(stream, 4);
    expect(items.map((i) => (i.type === 'event' ? i.event.id : i.type))).toEqual([1, 2, 3, 4]);
    expect(requests.map((r) => new URL(r.url ?? '', url).searchParams.get('since'))).toEqual(['0', '2', '3']);
    expect(requests[0]?.headers.authorization).toBe('Bearer t0k');
    expect(stream.lastEventId).toBe(4);
  });

  it('learns its position from an id-only frame so a reconnect from the head loses nothing', async () => {
    const { url, requests } = await scripted([
      (_req, res) => {
        sse(res);
        res.end('retry: 5\nid: 41\n\n');
      },
      (_req, res) => {
        sse(res);
        res.write(frame(42));
      },
    ]);
    const items = await take(new CatalogStream({ baseUrl: url, backoff: { initialMs: 5 } }), 1);
    expect(items[0]?.type === 'event' && items[0].event.id).toBe(42);
    expect(new URL(requests[1]?.url ?? '', url).searchParams.get('since')).toBe('41');
  });

  it('surfaces reset (then continues after the head) and overflow (then resumes)', async () => {
    const { url, requests } = await scripted([
      (_req, res) => {
        sse(res);
        res.end('event: reset\ndata: {"requested":3,"oldest":50,"head":90}\n\n');
      },
      (_req, res) => {
        sse(res);
        res.end(`${frame(91)}event: overflow\ndata: {}\n\n`);
      },
      (_req, res) => {
        sse(res);
        res.write(frame(92));
      },
    ]);
    const seen: string[] = [];
    const controller = new AbortController();
    await new CatalogStream({ baseUrl: url, since: 3, signal: controller.signal, backoff: { initialMs: 5 } }).run({
      onEvent: (e) => {
        seen.push(`event ${e.id}`);
        if (e.id === 92) controller.abort();
      },
      onReset: (r) => {
        seen.push(`reset ${r.head}`);
      },
      onOverflow: (o) => {
        seen.push(`overflow ${o.lastId}`);
      },
    });
    expect(seen).toEqual(['reset 90', 'event 91', 'overflow 91', 'event 92']);
    expect(requests.map((r) => new URL(r.url ?? '', url).searchParams.get('since'))).toEqual(['3', '90', '91']);
  });

  it('retries 5xx with backoff and throws the server error for a 4xx', async () => {
    const problem = (status: number, code: string) => (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ status, code, detail: `nope ${code}` }));
    };
    const { url, requests } = await scripted([problem(503, 'service_unavailable'), problem(400, 'invalid_request')]);
    const attempts: number[] = [];
    const err = await new CatalogStream({
      baseUrl: url,
      filter: { types: ['component.created'] },
      backoff: { initialMs: 5 },
    })
      .run({ onEvent: () => {}, onRetry: (_e, attempt) => attempts.push(attempt) })
      .catch((e: unknown) => e);
    expect(NestorError.is(err) && err.code).toBe('invalid_request');
    expect(attempts).toEqual([1]);
    expect(new URL(requests[0]?.url ?? '', url).searchParams.get('type')).toBe('component.created');
  });

  it('stops when its signal aborts, even while connected and idle', async () => {
    const { url } = await scripted([(_req, res) => sse(res)]);
    const controller = new AbortController();
    const done = new CatalogStream({ baseUrl: url, signal: controller.signal }).run({ onEvent: () => {} });
    setTimeout(() => controller.abort(), 30);
    await expect(done).resolves.toBeUndefined();
  });

  it('reconnects when the connection goes silent past the idle timeout', async () => {
    const { url, requests } = await scripted([
      (_req, res) => sse(res),
      (_req, res) => {
        sse(res);
        res.write(frame(1));
      },
    ]);
    const items = await take(
      new CatalogStream({ baseUrl: url, since: 0, idleTimeoutMs: 50, backoff: { initialMs: 5 } }),
      1,
    );
    expect(items).toHaveLength(1);
    expect(requests).toHaveLength(2);
  });
});
