import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, vi } from 'vitest';
import { run } from '../packages/orchestrator/src/cmd/root.js';

/** What a CLI command function receives instead of the process's streams and environment. */
interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string>;
}

/**
 * Temp folders of component files for CLI tests, removed after each test. Call at the top of a
 * test file; `write` lays out `{ relativePath: text }` and returns the folder.
 */
export function tempFiles(prefix: string): (files: Record<string, string>) => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return (files) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  };
}

/** Runs a CLI command function and collects its exit code and output. */
export async function runCommand<F>(
  command: (paths: string[], flags: F, io: CommandIo) => Promise<number>,
  paths: string[],
  flags: F,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await command(paths, flags, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
  });
  return { code, stdout, stderr };
}

/**
 * Runs the `nestor` CLI in-process (an abort would take the test process with it) with `env` added
 * to the environment; returns its exit code and what it wrote to stderr and stdout.
 */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; err: string; out: string }> {
  let err = '';
  let out = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const exitCode = process.exitCode;
  try {
    const code = await run(['node', 'nestor', ...args]);
    return { code, err, out };
  } finally {
    process.env = saved;
    process.exitCode = exitCode;
    vi.restoreAllMocks();
  }
}
