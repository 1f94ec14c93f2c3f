import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { component, uniqueName } from './helpers.js';
import { ensureBuilt, freePort, ROOT } from './replicas-helpers.js';

/**
 * The generated admin token through the real CLI: never in the output stream unless that stream is
 * a terminal, otherwise in a 0600 file whose path is printed; the data folder and the hash file
 * are made private even when they already existed with looser modes.
 */
const NESTOR = join(ROOT, 'packages/orchestrator/bin/nestor.js');
let root: string;

beforeAll(() => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'nestor-admin-token-'));
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Served {
  child: ChildProcess;
  base: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `command` (the CLI, or the CLI under `script` for a terminal) and waits for readiness. */
async function serve(command: string, args: string[], port: number): Promise<Served> {
  const child = spawn(command, args, {
    cwd: ROOT,
    // Only what the server needs: no API tokens, so it generates one.
    env: { PATH: process.env.PATH ?? '', NESTOR_LOG_LEVEL: 'info', TERM: 'dumb' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => chunks.push(d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited: ${chunks.join('')}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`serve did not become ready: ${chunks.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    base,
    output: () => chunks.join(''),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        // The whole group: under `script` the server is a grandchild.
        process.kill(-(child.pid as number), 'SIGTERM');
      }),
  };
}

function cliArgs(dataDir: string, port: number): string[] {
  return [NESTOR, 'serve', '--port', String(port), '--store', 'memory', '--no-examples', '--data-dir', dataDir];
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

async function canWrite(base: string, token: string): Promise<number> {
  const res = await fetch(`${base}/v1/components`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(component({ name: uniqueName('token') })),
  });
  return res.status;
}

describe('generated admin token, output not a terminal', () => {
  it('goes to a 0600 file (path printed), never to the output; folder and hash file become private', async () => {
    const dataDir = join(root, 'piped');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const port = await freePort();
    const server = await serve(process.execPath, cliArgs(dataDir, port), port);
    try {
      const tokenFile = join(dataDir, 'admin-token');
      const hashFile = join(dataDir, 'admin-token.sha256');
      const token = readFileSync(tokenFile, 'utf8').trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect(readFileSync(hashFile, 'utf8').trim()).toBe(createHash('sha256').update(token).digest('hex'));
      expect(mode(tokenFile)).toBe(0o600);
      expect(mode(hashFile)).toBe(0o600);
      expect(mode(dataDir)).toBe(0o700);
      expect(server.output()).not.toContain(token);
      expect(server.output()).toContain(tokenFile);
      expect(await canWrite(server.base, token)).toBe(201);
    } finally {
      await server.stop();
    }
    expect(server.output()).not.toContain(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim());
  }, 60_000);

  it('restricts an existing folder and hash file on a later start, and generates nothing new', async () => {
    const dataDir = join(root, 'existing');
    mkdirSync(dataDir);
    const token = 'an-operator-kept-admin-token-0123456789';
    const hashFile = join(dataDir, 'admin-token.sha256');
    writeFileSync(hashFile, `${createHash('sha256').update(token).digest('hex')}\n`);
    chmodSync(hashFile, 0o666);
    chmodSync(dataDir, 0o777);
    const port = await freePort();
    const server = await serve(process.execPath, cliArgs(dataDir, port), port);
    try {
      expect(mode(hashFile)).toBe(0o600);
      expect(mode(dataDir)).toBe(0o700);
      expect(existsSync(join(dataDir, 'admin-token'))).toBe(false);
      expect(server.output()).not.toContain('generated');
      expect(await canWrite(server.base, token)).toBe(201);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe('generated admin token, output a terminal', () => {
  it('is shown on the terminal once and written to no file', async () => {
    const dataDir = join(root, 'tty');
    const port = await freePort();
    // `script` gives the server a pseudo-terminal as stdout; what it shows arrives on our pipe.
    const command = cliArgs(dataDir, port)
      .map((a) => `'${a}'`)
      .join(' ');
    const server = await serve('script', ['-qfec', `'${process.execPath}' ${command}`, '/dev/null'], port);
    try {
      const hash = readFileSync(join(dataDir, 'admin-token.sha256'), 'utf8').trim();
      const shown = /^ {2}(\S{32,})\r?$/m.exec(server.output())?.[1] ?? '';
      expect(createHash('sha256').update(shown).digest('hex')).toBe(hash);
      expect(existsSync(join(dataDir, 'admin-token'))).toBe(false);
      expect(await canWrite(server.base, shown)).toBe(201);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
