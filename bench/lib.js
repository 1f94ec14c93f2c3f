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

/**
 * POSTs the bodies in turn for `duration` seconds, `connections` at a time, and returns creates per
 * second as the server counts them (its catalog revision before and after: one event per create).
 * There must be more bodies than the run can send, and every answer must be a 2xx.
 */
export async function loadPosts({ url, revisionUrl, bodies, headers, connections = 32, duration = 5 }) {
  const revision = async () => Number((await fetch(revisionUrl)).headers.get('x-catalog-revision'));
  let next = 0;
  const before = await revision();
  const started = performance.now();
  const result = await autocannon({
    url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(bodies[next++ % bodies.length]) }),
      },
    ],
  });
  const seconds = (performance.now() - started) / 1000;
  const created = (await revision()) - before;
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  if (next > bodies.length) throw new Error(`${url}: ran out of bodies (${bodies.length}); give it more`);
  return { perSecond: created / seconds, p50: result.latency.p50, p99: result.latency.p99 };
}

export function fmt(n, digits = 1) {
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits });
}
