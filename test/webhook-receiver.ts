import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a test receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  /** Path and query. */
  path: string;
  body: string;
  /** The status it was answered with. */
  status: number;
}

/**
 * A local webhook receiver (node:http on port 0). `answer` picks each reply's status (default 204);
 * every request is kept, in arrival order.
 */
export async function startReceiver(answer: (r: Omit<Received, 'status'>) => number = () => 204): Promise<{
  url: string;
  received: Received[];
  setAnswer(next: (r: Omit<Received, 'status'>) => number): void;
  close(): Promise<void>;
}> {
  let pick = answer;
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') };
      const status = pick(r);
      received.push({ ...r, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    setAnswer(next) {
      pick = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls until `check` holds (at most `timeoutMs`). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
