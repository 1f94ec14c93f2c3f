// Shared benchmark helpers: child servers, autocannon runs, percentiles.
import { fork } from 'node:child_process';
import autocannon from 'autocannon';

/** Starts a bench server script as a child process and resolves with its first IPC message. */
export function startChild(script, args = [], first) {
  const child = fork(new URL(script, import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (msg) => resolve({ child, info: msg }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    if (first) child.send(first);
  });
}

export function stopChild(child) {
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.send('stop');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

/** Runs autocannon and returns req/s and latency percentiles in ms. */
export async function load({ url, connections = 32, duration = 5, requests }) {
  const result = await autocannon({ url, connections, duration, requests, pipelining: 1 });
  if (result.non2xx > 0 && !requests) throw new Error(`${url}: ${result.non2xx} non-2xx answers`);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

export function fmt(n, digits = 1) {
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits });
}
