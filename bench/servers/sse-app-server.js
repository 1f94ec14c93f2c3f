// Child process for the SSE fan-out benchmark: the real orchestrator (memory store) listening on a
// free port. Over IPC it publishes timestamped events through the durable log and reports memory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, defaultConfig } from '../../packages/orchestrator/dist/main.js';

const dir = mkdtempSync(join(tmpdir(), 'nestor-bench-sse-'));
const config = defaultConfig();
config.store.type = 'memory';
config.data_dir = dir;
config.examples.enabled = false;
config.log.level = 'silent';
config.cache.enabled = false;
config.auth.tokens = [{ name: 'bench', token: 'bench-token', sha256: null, scopes: ['admin'] }];
config.events.client_buffer = 10_000;
// Every subscriber connects from the bench process (one anonymous caller): lift the stream caps,
// or all but the first 50 would get 429 `too_many_streams`.
config.limits.sse.max_streams = 100_000;
config.limits.sse.per_client = 100_000;
// Nor may the request rate limit (600 a minute per caller by default) refuse the connections.
config.limits.rate.max = 0;

const app = await buildApp(config);
const address = await app.server.listen({ host: '127.0.0.1', port: 0 });

async function publish(count) {
  let last = 0;
  for (let i = 0; i < count; i++) {
    const event = await app.store.appendEvent({
      type: 'source.synced',
      subject: { name: 'bench', version: null, digest: null },
      data: { sent_at: performance.timeOrigin + performance.now(), pad: 'x'.repeat(200) },
    });
    last = event.id;
  }
  app.feed.publish(last);
  return last;
}

process.on('message', async (msg) => {
  if (msg === 'stop') {
    await app.close();
    process.exit(0);
  }
  if (msg.type === 'publish') process.send({ type: 'published', id: await publish(msg.count ?? 1) });
  if (msg.type === 'memory') {
    globalThis.gc?.();
    process.send({ type: 'memory', ...process.memoryUsage(), subscribers: app.broker.stats().subscribers });
  }
});
process.send({ type: 'ready', address });
