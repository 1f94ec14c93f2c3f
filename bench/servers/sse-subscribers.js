// Child process for the SSE fan-out benchmark: holds N SSE subscribers to one server (a process
// of its own, so two servers' subscribers never share one client's event loop or file limit) and
// records, for every frame carrying `sent_at`, the time from the write to its arrival.
// IPC: { type: 'connect', url, n } → 'connected'; 'count' → { count }; 'take' → { latencies } (and
// forgets them: what came before is not measured); 'collect' → { latencies }, then closes.
import { Agent, get } from 'node:http';

const latencies = [];
const requests = [];
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

function open(url, i) {
  return new Promise((resolve, reject) => {
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
          if (at >= 0) latencies.push(now - Number.parseFloat(frame.slice(at + 10)));
          end = pending.indexOf('\n\n');
        }
      });
      resolve();
    });
    req.on('error', reject);
    requests.push(req);
  });
}

process.on('message', async (msg) => {
  if (msg.type === 'connect') {
    const opened = [];
    for (let i = 0; i < msg.n; i++) {
      opened.push(open(msg.url, i));
      // Connect in waves so the accept queue never overflows.
      if (i % 200 === 199) await Promise.all(opened.slice(-200));
    }
    await Promise.all(opened);
    process.send({ type: 'connected' });
  } else if (msg.type === 'count') {
    process.send({ type: 'count', count: latencies.length });
  } else if (msg.type === 'take') {
    process.send({ type: 'take', latencies: latencies.splice(0) });
  } else if (msg.type === 'collect') {
    for (const r of requests) r.destroy();
    agent.destroy();
    // A large message is still being written when `send` returns: disconnect only once it is out.
    process.send({ type: 'collect', latencies }, () => process.disconnect());
  }
});
process.send({ type: 'ready' });
