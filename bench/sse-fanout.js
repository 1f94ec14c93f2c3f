// SSE fan-out benchmark: N subscribers on the real orchestrator and on a bare node:http broadcaster
// in the same run; p50/p99 delivery latency of each and their ratio, memory per idle subscriber,
// and the time a resuming client takes to replay a 1 000-event backlog.
// Run after `npm run build`:  node bench/sse-fanout.js [subscribers=2000] [events=20]
import { fork } from 'node:child_process';
import { Agent, get } from 'node:http';
import { fileURLToPath } from 'node:url';

const TARGET_P99_MS = 250;
const TARGET_BYTES_PER_SUBSCRIBER = 20 * 1024;
const TARGET_REPLAY_MS = 100;

function child(script) {
  const proc = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // NESTOR_BENCH_CPU_PROF=<dir> writes a CPU profile of each server (node --cpu-prof) on stop.
    execArgv: [
      '--expose-gc',
      '--max-old-space-size=2048',
      ...(process.env.NESTOR_BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.NESTOR_BENCH_CPU_PROF}`]
        : []),
    ],
  });
  const waiters = [];
  proc.on('message', (msg) => {
    const i = waiters.findIndex((w) => w.type === msg.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
  });
  const next = (type) => new Promise((resolve) => waiters.push({ type, resolve }));
  return {
    ready: next('ready'),
    async ask(msg, reply) {
      const answer = next(reply);
      proc.send(msg);
      return answer;
    },
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', resolve);
        proc.send('stop');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** Opens n SSE connections; each records the latency of every frame carrying `sent_at`. */
async function subscribe(url, n, onLatency) {
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const requests = [];
  const opened = [];
  for (let i = 0; i < n; i++) {
    opened.push(
      new Promise((resolve, reject) => {
        const req = get(url, { agent }, (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`subscriber ${i}: ${url} answered ${res.statusCode}`));
            res.resume();
            return;
          }
          res.setEncoding('utf8');
          let pending = '';
          res.on('data', (chunk) => {
            const now = performance.timeOrigin + performance.now();
            pending += chunk;
            let end = pending.indexOf('\n\n');
            while (end >= 0) {
              const frame = pending.slice(0, end);
              pending = pending.slice(end + 2);
              const at = frame.indexOf('"sent_at":');
              if (at >= 0) onLatency(now - Number.parseFloat(frame.slice(at + 10)));
              end = pending.indexOf('\n\n');
            }
          });
          resolve();
        });
        req.on('error', reject);
        requests.push(req);
      }),
    );
    // Connect in waves so the accept queue never overflows.
    if (i % 200 === 199) await Promise.all(opened.slice(-200));
  }
  await Promise.all(opened);
  return () => {
    for (const r of requests) r.destroy();
    agent.destroy();
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function fanOut(server, url, subscribers, events) {
  const latencies = [];
  const close = await subscribe(url, subscribers, (ms) => latencies.push(ms));
  await new Promise((r) => setTimeout(r, 300));
  const idle = await server.ask({ type: 'memory' }, 'memory');
  for (let i = 0; i < events; i++) {
    await server.ask({ type: 'publish', count: 1 }, 'published');
    await new Promise((r) => setTimeout(r, 100));
  }
  const deadline = Date.now() + 10_000;
  while (latencies.length < subscribers * events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  close();
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    delivered: latencies.length,
    expected: subscribers * events,
    idle,
  };
}

/** Time from request to the last of a 1 000-event backlog, for a client resuming with `since`. */
async function replay(server, base) {
  const { id: head } = await server.ask({ type: 'publish', count: 1000 }, 'published');
  const since = head - 1000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = get(`${base}/v1/events?since=${since}`, { agent: false }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
        if (text.includes(`id: ${head}\n`)) {
          const ms = performance.now() - started;
          req.destroy();
          resolve(ms);
        }
      });
    });
    req.on('error', reject);
  });
}

/** The entry point `npm run bench` calls (bench/run.js). */
export async function benchSse({ subscribers = 2000, events = 20 } = {}) {
  const bare = child('./servers/sse-bare-server.js');
  const bareInfo = await bare.ready;
  const baseline = await bare.ask({ type: 'memory' }, 'memory');
  const bareRun = await fanOut(bare, bareInfo.address, subscribers, events);
  await bare.stop();

  const app = child('./servers/sse-app-server.js');
  const appInfo = await app.ready;
  // Replay first, on a quiet server: median of three (the first also warms the JIT).
  const replays = [];
  for (let i = 0; i < 3; i++) replays.push(await replay(app, appInfo.address));
  const replayMs = replays.sort((a, b) => a - b)[1];
  const before = await app.ask({ type: 'memory' }, 'memory');
  const appRun = await fanOut(app, `${appInfo.address}/v1/events`, subscribers, events);
  await app.stop();

  // JS heap plus off-heap buffers after a full GC: what the process holds per connection. RSS is
  // shown too, but it moves with allocator reuse and is noisy.
  const heap = (m) => m.heapUsed + m.external;
  const perSubscriber = (run, base) => (heap(run.idle) - heap(base)) / subscribers;
  const rssPer = (run, base) => (run.idle.rss - base.rss) / subscribers;
  const appBytes = perSubscriber(appRun, before);
  const bareBytes = perSubscriber(bareRun, baseline);
  const ratio = bareRun.p99 > 0 ? appRun.p99 / bareRun.p99 : Number.NaN;
  const complete = appRun.delivered === appRun.expected;
  return {
    title: `SSE fan-out: ${subscribers} subscribers x ${events} events`,
    rows: [
      {
        name: 'orchestrator GET /v1/events',
        p50: appRun.p50,
        p99: appRun.p99,
        ratio,
        target: `p99 <= ${TARGET_P99_MS} ms`,
      },
      { name: 'bare node:http broadcaster', p50: bareRun.p50, p99: bareRun.p99 },
    ],
    extra: [
      { name: 'events delivered (orchestrator)', value: `${appRun.delivered}/${appRun.expected}` },
      { name: 'events delivered (bare)', value: `${bareRun.delivered}/${bareRun.expected}` },
      {
        name: 'memory per idle subscriber (orchestrator)',
        value: `${(appBytes / 1024).toFixed(1)} KB heap, ${(rssPer(appRun, before) / 1024).toFixed(1)} KB rss`,
        target: `<= ${TARGET_BYTES_PER_SUBSCRIBER / 1024} KB`,
      },
      {
        name: 'memory per idle subscriber (bare)',
        value: `${(bareBytes / 1024).toFixed(1)} KB heap, ${(rssPer(bareRun, baseline) / 1024).toFixed(1)} KB rss`,
      },
      {
        name: '1 000-event backlog replay (median of 3)',
        value: `${replayMs.toFixed(1)} ms`,
        target: `<= ${TARGET_REPLAY_MS} ms`,
      },
    ],
    pass:
      complete &&
      appRun.p99 <= TARGET_P99_MS &&
      appBytes <= TARGET_BYTES_PER_SUBSCRIBER &&
      replayMs <= TARGET_REPLAY_MS,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const subscribers = Number(process.argv[2] ?? 2000);
  const events = Number(process.argv[3] ?? 20);
  const r = await benchSse({ subscribers, events });
  console.log(r.title);
  for (const row of r.rows) {
    const ratio = row.ratio === undefined ? '' : `  ratio ${row.ratio.toFixed(2)}`;
    console.log(`  ${row.name.padEnd(48)} p50 ${row.p50.toFixed(2)} ms  p99 ${row.p99.toFixed(2)} ms${ratio}`);
  }
  for (const e of r.extra) console.log(`  ${e.name.padEnd(48)} ${e.value}${e.target ? `  (target ${e.target})` : ''}`);
  console.log(r.pass ? '=> meets targets' : '=> MISSES a target');
  process.exit(r.pass ? 0 : 1);
}
