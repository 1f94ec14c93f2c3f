import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PageBuffers } from './page-buffers.js';

/** A page whose every byte says which request it answers. */
function fill(page: Buffer, id: number): Buffer {
  page.fill(`<${id}>`);
  return page;
}

function expectPage(body: Buffer, id: number, length: number): void {
  expect(body.length).toBe(length);
  expect(body.equals(fill(Buffer.alloc(length), id))).toBe(true);
}

let server: Server | null = null;
afterEach(async () => {
  const s = server;
  server = null;
  if (s) await new Promise((resolve) => s.close(resolve));
});

/** A real server answering `/<id>/<length>[/<lead>]` with a page taken from `pages`. */
async function serve(pages: PageBuffers, taken: ArrayBuffer[]): Promise<number> {
  const made = createServer((req: IncomingMessage, res: ServerResponse) => {
    const [id, length, lead] = (req.url ?? '').split('/').slice(1).map(Number) as [number, number, number?];
    const page = fill(pages.take(length), id);
    taken.push(page.buffer as ArrayBuffer);
    res.writeHead(200, { 'content-length': (lead ?? 0) + length });
    // A lead larger than the socket takes at once leaves the page queued behind it.
    if (lead) res.write(Buffer.alloc(lead, '.'));
    res.end(page);
    pages.release(page, res);
  });
  server = made;
  await new Promise<void>((resolve) => made.listen(0, '127.0.0.1', resolve));
  return (made.address() as AddressInfo).port;
}

/** The raw body of a GET read only after `delayMs`; the client reads nothing until then. */
function slowGet(port: number, path: string, delayMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.pause();
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    setTimeout(() => socket.resume(), delayMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      const raw = Buffer.concat(chunks);
      resolve(raw.subarray(raw.indexOf('\r\n\r\n') + 4));
    });
  });
}

describe('PageBuffers', () => {
  it('lends the same memory again once the socket took a page at once', async () => {
    const pages = new PageBuffers();
    const taken: ArrayBuffer[] = [];
    const port = await serve(pages, taken);
    for (let id = 1; id <= 3; id++) {
      const res = await fetch(`http://127.0.0.1:${port}/${id}/30000`);
      expectPage(Buffer.from(await res.arrayBuffer()), id, 30_000);
    }
    expect(taken[1]).toBe(taken[0]);
    expect(taken[2]).toBe(taken[0]);
  });

  it('leaves a page a slow reader has not taken to it alone, while other answers go on', async () => {
    const pages = new PageBuffers();
    const taken: ArrayBuffer[] = [];
    const port = await serve(pages, taken);
    // 16 MiB ahead of the page: more than loopback buffers hold, so the page waits in the stream.
    const lead = 16 * 1024 * 1024;
    const slow = slowGet(port, `/1/30000/${lead}`, 300);
    await new Promise((r) => setTimeout(r, 100));
    const fast = await Promise.all(
      [2, 3, 4].map(async (id) =>
        Buffer.from(await (await fetch(`http://127.0.0.1:${port}/${id}/30000`)).arrayBuffer()),
      ),
    );
    fast.forEach((body, i) => {
      expectPage(body, i + 2, 30_000);
    });
    expect(taken[1]).not.toBe(taken[0]);
    const body = await slow;
    expect(body.length).toBe(lead + 30_000);
    expectPage(body.subarray(lead), 1, 30_000);
  });

  it('never reuses memory it did not lend', () => {
    const pages = new PageBuffers();
    const done = { writableEnded: true, writableLength: 0, destroyed: false } as ServerResponse;
    // A small buffer from Node's shared pool shares its memory with unrelated buffers.
    const pooled = Buffer.from('{"items":[]}');
    pages.release(pooled, done);
    expect(pages.take(10).buffer).not.toBe(pooled.buffer);
  });

  it('lends a page larger than the kept memory new memory, and keeps the larger after', () => {
    const pages = new PageBuffers();
    const done = { writableEnded: true, writableLength: 0, destroyed: false } as ServerResponse;
    const small = pages.take(1000);
    pages.release(small, done);
    const large = pages.take(200_000);
    expect(large.buffer).not.toBe(small.buffer);
    expect(large.length).toBe(200_000);
    pages.release(large, done);
    expect(pages.take(150_000).buffer).toBe(large.buffer);
    // A page given back twice is kept once: the second giving back is ignored.
    const again = pages.take(10);
    pages.release(again, done);
    const next = pages.take(10);
    pages.release(again, done);
    expect(pages.take(10).buffer).not.toBe(next.buffer);
  });
});
