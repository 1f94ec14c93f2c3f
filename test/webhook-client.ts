import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';

/** What a raw POST ended in: the answer, or the socket error the client saw instead. */
export type RawOutcome =
  | {
      kind: 'answer';
      status: number;
      body: string;
      headers: Record<string, string | string[] | undefined>;
      ms: number;
      written: number;
    }
  | { kind: 'error'; code: string; ms: number; written: number };

export interface RawPost {
  port: number;
  path: string;
  headers: Record<string, string>;
  /** Body bytes to write (one chunk, written `repeat` times with backpressure). */
  chunk?: Buffer;
  repeat?: number;
  /** Declared Content-Length; omitted means chunked transfer encoding. */
  contentLength?: number | null;
  /** Give up after this long (the outcome is then `error` with code `timeout`). */
  timeoutMs?: number;
}

/**
 * A POST written the way a plain client writes it: the whole body first (respecting backpressure),
 * reading the answer whenever it comes. The same chunk is reused, so the client holds no more
 * than one chunk however long the body is.
 */
export function rawPost(opts: RawPost): Promise<RawOutcome> {
  const started = Date.now();
  const chunk = opts.chunk ?? Buffer.alloc(0);
  const repeat = opts.repeat ?? (chunk.length > 0 ? 1 : 0);
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.contentLength !== null) headers['content-length'] = String(opts.contentLength ?? chunk.length * repeat);
  return new Promise((resolve) => {
    let written = 0;
    let sent = 0;
    let done = false;
    const finish = (outcome: RawOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    const req = request({ host: '127.0.0.1', port: opts.port, method: 'POST', path: opts.path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        finish({
          kind: 'answer',
          status: res.statusCode ?? 0,
          body: Buffer.concat(parts).toString('utf8'),
          headers: res.headers,
          ms: Date.now() - started,
          written,
        }),
      );
      res.on('error', (err: NodeJS.ErrnoException) =>
        finish({ kind: 'error', code: err.code ?? err.message, ms: Date.now() - started, written }),
      );
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish({ kind: 'error', code: err.code ?? err.message, ms: Date.now() - started, written }),
    );
    const timer = setTimeout(
      () => finish({ kind: 'error', code: 'timeout', ms: Date.now() - started, written }),
      opts.timeoutMs ?? 30_000,
    );
    const pump = () => {
      while (sent < repeat && !done) {
        sent += 1;
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      // A body declared but not sent stays open: the server must answer from the headers alone.
      if (!done && (opts.contentLength === null || written >= (opts.contentLength ?? 0))) req.end();
    };
    req.flushHeaders();
    pump();
  });
}

export interface Flood {
  port: number;
  path: string;
  headers: Record<string, string>;
  /** Parallel posts. */
  count: number;
  /** Body bytes of each post (written in 64 KiB chunks, with backpressure). */
  bytes: number;
  /** Chunked transfer encoding instead of a declared Content-Length. */
  chunked: boolean;
}

// Plain JavaScript for a child process, so the flood's client work and memory are not the server's.
const FLOOD_SCRIPT = `
import { request } from 'node:http';
import { connect } from 'node:net';
const o = JSON.parse(process.argv[1]);
const chunk = Buffer.alloc(64 * 1024, 'a');
const one = (i) => new Promise((resolve) => {
  const headers = { ...o.headers, 'x-github-delivery': 'flood-' + process.pid + '-' + i };
  if (!o.chunked) headers['content-length'] = String(o.bytes);
  let written = 0;
  let settled = false;
  const done = (r) => { if (!settled) { settled = true; req.destroy(); resolve({ ...r, written }); } };
  const req = request({ host: '127.0.0.1', port: o.port, method: 'POST', path: o.path, headers }, (res) => {
    let text = '';
    res.on('data', (c) => (text += c));
    res.on('end', () => done({ status: res.statusCode, body: text }));
  });
  req.on('error', (e) => done({ error: e.code ?? e.message }));
  const pump = () => {
    while (written < o.bytes && !settled) {
      written += chunk.length;
      if (!req.write(chunk)) return void req.once('drain', pump);
    }
    if (!settled) req.end();
  };
  pump();
});
const results = await Promise.all(Array.from({ length: o.count }, (_, i) => one(i)));
process.stdout.write(JSON.stringify(results));
`;

/** What each post of a flood ended in, as seen by its client. */
export interface FloodResult {
  status?: number;
  body?: string;
  error?: string;
  written: number;
}

/** Runs `count` parallel posts from a child process and returns what each client saw. */
export function floodFromChild(flood: Flood): Promise<FloodResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', FLOOD_SCRIPT, JSON.stringify(flood)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`flood client exited with ${code}`));
      else resolve(JSON.parse(out) as FloodResult[]);
    });
  });
}

/** What a client that ignores the answer and keeps sending saw. */
export interface HostileUpload {
  /** The answer's status line and headers, if one arrived. */
  head: string;
  /** Body bytes written before the server cut the connection (or all of them). */
  written: number;
  /** How it ended: `cut` (reset or closed by the server), `sent` (everything went out) or `timeout`. */
  end: 'cut' | 'sent' | 'timeout';
}

/**
 * Sends `headers` and then `bytes` of body over a plain socket, paying no attention to the answer,
 * as a hostile or broken client would.
 */
export function hostileUpload(port: number, head: string, bytes: number, timeoutMs = 20_000): Promise<HostileUpload> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let written = 0;
    let answer = '';
    let settled = false;
    const settle = (end: HostileUpload['end']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ head: answer.split('\r\n\r\n')[0] ?? '', written, end });
    };
    const timer = setTimeout(() => settle('timeout'), timeoutMs);
    socket.on('data', (d: Buffer) => {
      if (answer.length < 4096) answer += d.toString('latin1');
    });
    socket.on('error', () => settle('cut'));
    socket.on('close', () => settle(written >= bytes ? 'sent' : 'cut'));
    socket.write(head);
    const pump = () => {
      while (written < bytes && !settled) {
        written += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!settled) settle('sent');
    };
    pump();
  });
}
