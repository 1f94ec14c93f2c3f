// Child process for benchmarks: the physical limit for Node — a bare node:http server answering
// every request with the same bytes and headers the orchestrator sent for one exact-version GET.
import { createServer } from 'node:http';

process.once('message', ({ body, headers }) => {
  const bytes = Buffer.from(body, 'utf8');
  const server = createServer((_req, res) => {
    res.writeHead(200, { ...headers, 'content-length': bytes.length });
    res.end(bytes);
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    process.send?.({ address: `http://127.0.0.1:${port}` });
  });
  process.on('message', (msg) => {
    if (msg === 'stop') server.close(() => process.exit(0));
  });
});
