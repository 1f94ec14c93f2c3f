import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a fake engine answers its next request. */
export type EngineMode = 'up' | 'down' | 'slow' | 'redirect' | 'endless' | 'garbage' | 'stall-body';

export interface FakeEngine {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Requests received, in order. */
  paths: string[];
  /** Most requests ever open at once. */
  maxConcurrent: number;
  set(mode: EngineMode): void;
  close(): Promise<void>;
}

export interface FakeEngineOptions {
  mode?: EngineMode;
  /** How long `slow` waits before answering. */
  slowMs?: number;
  /** When set, decides the mode of request number n (0-based), overriding `set`. */
  plan?: (n: number) => EngineMode;
}

/**
 * A real HTTP server on port 0 that behaves like an engine in a given state: healthy, failing,
 * hanging, redirecting to itself for ever, streaming an endless body, or speaking no HTTP at all.
 */
export async function startFakeEngine(opts: FakeEngineOptions = {}): Promise<FakeEngine> {
  let mode: EngineMode = opts.mode ?? 'up';
  let open = 0;
  const paths: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const state = { maxConcurrent: 0 };
  const server: Server = createServer((req, res) => {
    const n = paths.length;
    paths.push(req.url ?? '');
    open += 1;
    state.maxConcurrent = Math.max(state.maxConcurrent, open);
    res.on('close', () => {
      open -= 1;
    });
    const current = opts.plan ? opts.plan(n) : mode;
    switch (current) {
      case 'up':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      case 'down':
        res.writeHead(503, { 'content-type': 'text/plain' }).end('engine is draining\n');
        return;
      case 'slow': {
        const t = setTimeout(() => res.writeHead(200).end('late'), opts.slowMs ?? 5_000);
        timers.add(t);
        return;
      }
      case 'redirect':
        res.writeHead(302, { location: req.url ?? '/' }).end();
        return;
      case 'endless': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(16 * 1024, 120);
        const pump = () => {
          while (res.write(chunk)) {
            if (res.destroyed) return;
          }
          res.once('drain', pump);
        };
        pump();
        return;
      }
      case 'stall-body':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
        res.write('partial');
        return;
      case 'garbage':
        req.socket.end('THIS IS NOT HTTP\r\n\u0000\u0001\r\n\r\n');
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    get maxConcurrent() {
      return state.maxConcurrent;
    },
    set(next: EngineMode) {
      mode = next;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` every 10 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
}
