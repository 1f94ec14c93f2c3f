import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { responseSink, type SseSink } from './client.js';

/** A server whose one route starts a chunked stream and hands its sink to the test. */
async function serve(onSink: (sink: SseSink, res: ServerResponse) => void) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('retry: 100\n\n');
    onSink(responseSink(res), res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function read(port: number, headers: Record<string, string> = {}, http10 = false) {
  return new Promise<{ res: IncomingMessage; body: string }>((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ res, body }));
      res.on('error', reject);
    });
    if (http10) (req as unknown as { useChunkedEncodingByDefault: boolean }).useChunkedEncodingByDefault = false;
    req.on('error', reject);
  });
}

const servers: { close(cb: () => void): void }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

describe('responseSink', () => {
  it('frames multi-byte text by its byte length, shares one encoding, and ends with the terminating chunk', async () => {
    const frames = ['data: héllo ✓ 🚀\n\n', 'data: plain\n\n', 'data: héllo ✓ 🚀\n\n'];
    const { server, port } = await serve((sink) => {
      for (const f of frames) expect(sink.write(f)).toBe(true);
      sink.end('event: bye\ndata: {}\n\n');
    });
    servers.push(server);
    const { res, body } = await read(port);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    // The client's HTTP parser checks every chunk size: a wrong one corrupts or fails the body.
    expect(body).toBe(`retry: 100\n\n${frames.join('')}event: bye\ndata: {}\n\n`);
  });

  it('leaves no drain listener on the socket once the stream is over (keep-alive reuses it)', async () => {
    let socket: Socket | null = null;
    let before = 0;
    const { server, port } = await serve((sink, res) => {
      socket = res.socket as Socket;
      before = socket.listenerCount('drain');
      sink.onDrain(() => {});
      expect(socket.listenerCount('drain')).toBe(before + 1);
      sink.write('data: 1\n\n');
      sink.end();
    });
    servers.push(server);
    const { body } = await read(port);
    expect(body).toBe('retry: 100\n\ndata: 1\n\n');
    await new Promise((r) => setTimeout(r, 20));
    expect((socket as unknown as Socket).listenerCount('drain')).toBe(before);
  });

  it('drops writes after the end instead of failing, and reports the close once', async () => {
    let closes = 0;
    const done = new Promise<void>((resolve) => {
      void serve((sink) => {
        sink.onClose(() => {
          closes++;
          resolve();
        });
        sink.end('data: last\n\n');
        expect(sink.write('data: late\n\n')).toBe(true);
      }).then(({ server, port }) => {
        servers.push(server);
        void read(port);
      });
    });
    await done;
    await new Promise((r) => setTimeout(r, 20));
    expect(closes).toBe(1);
  });

  it('falls back to plain writes for a response without chunked encoding (HTTP/1.0 peer)', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('retry: 100\n\n');
      expect(res.chunkedEncoding).toBe(false);
      const sink = responseSink(res);
      sink.write('data: é\n\n');
      sink.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    const { connect } = await import('node:net');
    const raw = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n'));
      let text = '';
      s.setEncoding('utf8');
      s.on('data', (c) => {
        text += c;
      });
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw.endsWith('\r\n\r\nretry: 100\n\ndata: é\n\n')).toBe(true);
  });
});
