// Child process for the catalog-scale benchmark: the physical limit for Node when every answer is
// a different size — a bare node:http server answering `GET /<bytes>` with a JSON body of exactly
// that many bytes and the headers a catalog read carries, nothing else (no routing, no store).
import { createServer } from 'node:http';

const MAX = 8 * 1024 * 1024;
// `{"items":"xxxx...` : valid JSON prefix of the right length, content irrelevant to the client.
const filler = Buffer.alloc(MAX, 'x');
filler.write('{"items":"', 0);
const headers = (n) => ({
  'content-type': 'application/json; charset=utf-8',
  'content-length': n,
  'x-catalog-revision': '100000',
  'cache-control': 'public, max-age=60',
});
const server = createServer((req, res) => {
  const n = Math.min(MAX, Number.parseInt(req.url.slice(1), 10) || 2);
  res.writeHead(200, headers(n));
  res.end(filler.subarray(0, n));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', address: `http://127.0.0.1:${server.address().port}` });
});
process.on('message', (msg) => {
  if (msg === 'stop') server.close(() => process.exit(0));
});
