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

/** Sends `{ type, ...fields }` to a child; resolves with its first answer of the same type. */
export function ask(child, type, fields = {}) {
  return new Promise((resolve) => {
    const on = (msg) => {
      if (msg?.type === type) {
        child.off('message', on);
        resolve(msg);
      }
    };
    child.on('message', on);
    child.send({ ...fields, type });
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
  let refused = null;
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
        onResponse: (status, body) => {
          if ((status < 200 || status > 299) && refused === null) refused = `${status} ${body.slice(0, 400)}`;
        },
      },
    ],
  });
  const seconds = (performance.now() - started) / 1000;
  const created = (await revision()) - before;
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors; first: ${refused}`);
  if (next > bodies.length) throw new Error(`${url}: ran out of bodies (${bodies.length}); give it more`);
  return { perSecond: created / seconds, created, seconds, p50: result.latency.p50, p99: result.latency.p99 };
}

/** Prints a suite's result as `npm run bench` does: one line per row, then the extra figures. */
export function printSuite(r) {
  console.log(`\n${r.title}`);
  for (const row of r.rows ?? []) {
    const parts = [row.name.padEnd(48)];
    if (row.rps !== undefined) parts.push(`${fmt(row.rps, 0).padStart(9)} req/s`);
    if (row.p50 !== undefined) parts.push(`p50 ${fmt(row.p50, 2)} ms`, `p99 ${fmt(row.p99, 2)} ms`);
    if (row.cpuUs !== undefined) parts.push(`cpu ${fmt(row.cpuUs, 0)} µs/answer`);
    if (row.ratio !== undefined) parts.push(`${row.ratioName ?? 'ratio'} ${fmt(row.ratio, 3)}`);
    if (row.target) parts.push(`(target ${row.target})`);
    console.log(`  ${parts.join('  ')}`);
  }
  for (const e of r.extra ?? [])
    console.log(`  ${e.name.padEnd(48)}  ${e.value}${e.target ? `  (target ${e.target})` : ''}`);
  console.log(`  => ${r.pass ? 'meets targets' : 'MISSES a target'}`);
}

/** The `p`th percentile (0–100) of ascending `sorted` values; NaN when there are none. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function fmt(n, digits = 1) {
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits });
}

/**
 * Writes `count` times on one replica and times each event's arrival on another replica's SSE
 * stream (opened after `head`): p50/p99 of commit-to-delivery in ms (5000 for a lost event).
 */
export async function crossReplicaDelivery({ reader: readerBase, head, write, count = 50 }) {
  const controller = new AbortController();
  const res = await fetch(`${readerBase}/v1/events?since=${head}`, { signal: controller.signal });
  const arrivals = new Map();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (const m of buffer.matchAll(/^id: ?(\d+)$/gm))
          if (!arrivals.has(Number(m[1]))) arrivals.set(Number(m[1]), Date.now());
        buffer = buffer.slice(buffer.lastIndexOf('\n\n') + 1);
      }
    } catch {}
  })();
  await new Promise((r) => setTimeout(r, 300));
  const delays = [];
  for (let i = 0; i < count; i++) {
    const r = await write(i);
    const committed = Date.now();
    await r.arrayBuffer();
    const expected = head + 1 + i;
    const deadline = Date.now() + 5000;
    while (!arrivals.has(expected) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    delays.push(arrivals.has(expected) ? Math.max(0, arrivals.get(expected) - committed) : 5000);
  }
  controller.abort();
  delays.sort((a, b) => a - b);
  const p = (q) => delays[Math.min(delays.length - 1, Math.ceil(q * delays.length) - 1)];
  return { count: delays.length, p50: p(0.5), p99: p(0.99) };
}
