// Child process for the catalog-scale benchmark: the physical limit for Node when every answer is
// a different size — a bare node:http server answering `GET /<bytes>` with a JSON body of exactly
// that many bytes and the headers the orchestrator's answers of the run carried, nothing else (no
// routing, no store). The bench sends those headers before each run (`{ type: 'headers' }`), as
// one answer carried them: the same bytes on the wire (a request id of the same length), none of
// the work that made them.
import { createServer } from 'node:http';

const MAX = 8 * 1024 * 1024;
// `{"items":"xxxx...` : valid JSON prefix of the right length, content irrelevant to the client.
const filler = Buffer.alloc(MAX, 'x');
filler.write('{"items":"', 0);
/** Until the bench says otherwise, the headers a catalog read carries at the least. */
let carried = {
  'content-type': 'application/json; charset=utf-8',
  'x-catalog-revision': '100000',
};
const server = createServer((req, res) => {
  const n = Math.min(MAX, Number.parseInt(req.url.slice(1), 10) || 2);
  res.writeHead(200, { ...carried, 'content-length': n });
  res.end(filler.subarray(0, n));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', address: `http://127.0.0.1:${server.address().port}` });
});
process.on('message', (msg) => {
  if (msg === 'stop') server.close(() => process.exit(0));
  if (msg?.type === 'headers') {
    carried = msg.headers;
    process.send?.({ type: 'headers' });
  }
});
