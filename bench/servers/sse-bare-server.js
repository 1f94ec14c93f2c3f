// Child process for the SSE fan-out benchmark: the physical limit for Node — a bare node:http
// broadcaster that writes the same kind of frame to every open response, with no log and no filters.
import { createServer } from 'node:http';

const clients = new Set();
let id = 0;
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write('retry: 2000\n\n');
  clients.add(res);
  req.on('close', () => clients.delete(res));
});
server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', address: `http://127.0.0.1:${server.address().port}` });
});
process.on('message', (msg) => {
  if (msg === 'stop') {
    for (const res of clients) res.destroy();
    server.close(() => process.exit(0));
    return;
  }
  if (msg.type === 'publish') {
    id++;
    const event = {
      id,
      type: 'source.synced',
      time: new Date().toISOString(),
      subject: { name: 'bench', version: null, digest: null },
      data: { sent_at: performance.timeOrigin + performance.now(), pad: 'x'.repeat(200) },
    };
    const frame = `id: ${id}\nevent: source.synced\ndata: ${JSON.stringify(event)}\n\n`;
    for (const res of clients) res.write(frame);
    process.send({ type: 'published', id });
  }
  if (msg.type === 'memory') {
    globalThis.gc?.();
    process.send({ type: 'memory', ...process.memoryUsage(), subscribers: clients.size });
  }
});
