import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ADMIN_TOKEN = 'replica-test-admin-token-0123456789';

/** Builds dist/ for the child processes; tsc -b is incremental, so an up-to-date build costs little. */
export function ensureBuilt(): void {
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'packages/sdk', 'packages/orchestrator'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  if (result.status !== 0 || !existsSync(join(ROOT, 'packages/orchestrator/dist/cmd/root.js'))) {
    throw new Error('building dist/ for the replica processes failed');
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface Replica {
  name: string;
  base: string;
  child: ChildProcess;
  output: string[];
  stop(): Promise<void>;
}

/** One `nestor serve` process on its own port, sharing the given environment (store, Redis). */
export async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `nestor-${name}-`));
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'packages/orchestrator/bin/nestor.js'),
      'serve',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--no-examples',
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NESTOR_LOG_LEVEL: 'warn',
        NESTOR_API_TOKENS: `${ADMIN_TOKEN}:admin`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const base = `http://127.0.0.1:${port}`;
  // Replicas start together on a shared, loaded machine (beside DynamoDB Local's JVM): give them time.
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${output.join('')}`);
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not become ready: ${output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    base,
    child,
    output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface StreamedEvent {
  id: number;
  type: string;
  at: number;
}

/** Reads `/v1/events` as SSE and collects events with their arrival time. */
export async function openStream(base: string, since: number): Promise<{ events: StreamedEvent[]; close(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${base}/v1/events?since=${since}`, {
    headers: { accept: 'text/event-stream' },
    signal: controller.signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`stream answered ${res.status}`);
  const events: StreamedEvent[] = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let id: number | null = null;
          let type = 'message';
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith('id:')) id = Number(line.slice(3).trim());
            if (line.startsWith('event:')) type = line.slice(6).trim();
            if (line.startsWith('data:')) hasData = true;
          }
          // The stream opens with a bare `id:` frame (its start position): that is not an event.
          if (hasData && id !== null && Number.isFinite(id)) events.push({ id, type, at: Date.now() });
          cut = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, close: () => controller.abort() };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
