import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpSender } from './sender.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const send = (url: string, timeoutMs = 2_000) =>
  httpSender({
    url,
    address: { address: '127.0.0.1', family: 4 },
    headers: { 'content-type': 'application/json' },
    body: '{"id":1}',
    timeoutMs,
    maxResponseBytes: 4_096,
  });

describe('httpSender: receivers that misbehave are bounded', () => {
  it('connects to the pinned address, not to what the URL host resolves to', async () => {
    let got = '';
    const port = await serve((req, res) => {
      got = req.headers.host ?? '';
      res.writeHead(204).end();
    });
    // The name does not resolve anywhere; the pinned address is used instead, the Host header kept.
    const answer = await send(`http://receiver.invalid:${port}/hook`);
    expect(answer).toEqual({ status: 204, error: null });
    expect(got).toBe(`receiver.invalid:${port}`);
  });

  it('gives up on a receiver that never answers after the timeout', async () => {
    const port = await serve(() => {});
    const started = performance.now();
    expect(await send(`http://127.0.0.1:${port}/`, 300)).toEqual({ status: null, error: 'timeout' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('does not follow a redirect: the 3xx is the answer', async () => {
    let followed = false;
    const target = await serve((_req, res) => {
      followed = true;
      res.writeHead(204).end();
    });
    const port = await serve((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${target}/` }).end();
    });
    expect(await send(`http://127.0.0.1:${port}/`)).toEqual({ status: 302, error: null });
    expect(followed).toBe(false);
  });

  it('reads a few KB of an endless answer and drops the connection', async () => {
    let written = 0;
    let closed = false;
    const port = await serve((_req, res) => {
      res.writeHead(500);
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (!closed && written < 4 * 1024 ** 3) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => {
        closed = true;
      });
      pump();
    });
    expect(await send(`http://127.0.0.1:${port}/`, 5_000)).toEqual({ status: 500, error: null });
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(true);
    expect(written).toBeLessThan(64 * 1024 ** 2);
  });

  it('reports a refused connection without a status', async () => {
    const port = await serve(() => {});
    servers[0]?.close();
    servers[0]?.closeAllConnections();
    servers.splice(0);
    expect(await send(`http://127.0.0.1:${port}/`)).toEqual({ status: null, error: 'connection' });
  });
});
