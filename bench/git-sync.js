// Git sync benchmark (issue 5): initial sync of a generated 10 000-file repository, a no-change
// resync, and a one-file change from webhook to event on the SSE stream.
// Run after `npm run build`: node bench/git-sync.js [--files 10000] [--store sqlite|memory]
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { files: { type: 'string', default: '10000' }, store: { type: 'string', default: 'sqlite' } },
});
const FILES = Number(values.files);
const SECRET = 'bench-webhook-secret';
const TARGETS = { initial: 30_000, resync: 2_000, webhook: 1_000 };

const { buildApp, defaultConfig } = await import('../packages/orchestrator/dist/main.js');

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
const git = (dir, ...args) => execFileSync('git', args, { cwd: dir, env: GIT_ENV, encoding: 'utf8' }).trim();

function componentYaml(i, version = '1.0.0') {
  const name = `bench-c-${String(i).padStart(5, '0')}`;
  return `name: ${name}
version: ${version}
description: Generated component ${i} for the git sync benchmark
provider: ${['aws', 'gcp', 'azure', 'k8s'][i % 4]}
category: ${['database', 'network', 'storage', 'compute'][i % 4]}
resource_type: type-${i % 50}
required_inputs:
  - name: size
    type: string
    description: How big
optional_inputs:
  - name: replicas
    type: integer
    description: How many
    default: 1
outputs:
  - name: id
    type: string
    description: Resource id
labels:
  team: team-${i % 20}
`;
}

const root = mkdtempSync(join(tmpdir(), 'nestor-bench-git-'));
const repo = join(root, 'repo');
const data = join(root, 'data');
mkdirSync(repo);
process.stdout.write(`generating a ${FILES}-file repository in ${repo} ...\n`);
git(repo, 'init', '--quiet', '--initial-branch', 'main');
for (let i = 0; i < FILES; i++) {
  const dir = join(repo, `group-${String(Math.floor(i / 100)).padStart(3, '0')}`, `c-${i}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'component.yaml'), componentYaml(i));
}
git(repo, 'add', '--all');
git(repo, 'commit', '--quiet', '-m', 'generated');
// A served repository is packed (as on any git server); loose objects would only time this script.
git(repo, 'repack', '-adq');

const config = defaultConfig();
config.store.type = values.store;
config.store.path = join(data, 'nestor.db');
config.data_dir = data;
config.examples.enabled = false;
config.log.level = 'warn';
config.auth.tokens = [{ name: 'admin', token: 'bench-admin', sha256: null, scopes: ['admin'] }];
config.sources = [
  {
    name: 'bench',
    type: 'git',
    url: `file://${repo}`,
    path: null,
    branch: 'main',
    paths: ['**/component.yaml'],
    interval_ms: 0,
    webhook_secret_env: 'BENCH_WEBHOOK_SECRET',
    token_env: null,
    ssh_key_path: null,
  },
];
mkdirSync(data, { recursive: true });
const app = await buildApp(config, { env: { ...process.env, BENCH_WEBHOOK_SECRET: SECRET } });
const address = await app.server.listen({ host: '127.0.0.1', port: 0 });

const results = [];
function record(name, ms, target, extra = '') {
  results.push({ name, ms, target });
  const verdict = ms <= target ? 'ok' : 'OVER TARGET';
  process.stdout.write(
    `${name.padEnd(34)} ${ms.toFixed(0).padStart(7)} ms  (target ≤ ${target} ms, ${verdict}) ${extra}\n`,
  );
}

try {
  let t = performance.now();
  const initial = await app.sources.sync('bench');
  const initialMs = performance.now() - t;
  if (initial.counts.created !== FILES) throw new Error(`initial sync created ${initial.counts.created} of ${FILES}`);
  record('initial sync', initialMs, TARGETS.initial, `${Math.round((FILES / initialMs) * 1000)} files/s`);

  // From here on the server runs as `nestor serve` does (event broker, background work).
  await app.start();
  t = performance.now();
  const again = await app.sources.sync('bench');
  record('no-change resync', performance.now() - t, TARGETS.resync, `(${again.files} files parsed)`);

  // One changed file: commit, send a signed GitHub push, wait for the event on the SSE stream.
  const changed = componentYaml(4242 % FILES, '1.1.0').replace('Generated component', 'Changed component');
  writeFileSync(
    join(
      repo,
      `group-${String(Math.floor((4242 % FILES) / 100)).padStart(3, '0')}`,
      `c-${4242 % FILES}`,
      'component.yaml',
    ),
    changed,
  );
  git(repo, 'commit', '--quiet', '-am', 'one change');
  const head = git(repo, 'rev-parse', 'HEAD');
  const target = `bench-c-${String(4242 % FILES).padStart(5, '0')}`;

  const abort = new AbortController();
  const stream = await fetch(`${address}/v1/events`, {
    headers: { accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (!stream.ok || !stream.body) throw new Error(`GET /v1/events answered ${stream.status}`);
  const seen = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of stream.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (frame.includes('component.created') && frame.includes(target)) return performance.now();
        cut = buffer.indexOf('\n\n');
      }
    }
    throw new Error('event stream ended');
  })();
  // Let the subscription settle before the clock starts.
  await new Promise((r) => setTimeout(r, 200));

  const body = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: head });
  const sig = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
  t = performance.now();
  const res = await fetch(`${address}/v1/webhooks/bench`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': sig,
    },
    body,
  });
  if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  const arrived = await Promise.race([
    seen,
    new Promise((_, reject) => setTimeout(() => reject(new Error('no event within 30 s')), 30_000)),
  ]);
  abort.abort();
  const status = await app.sources.status('bench');
  record('webhook → event on the stream', arrived - t, TARGETS.webhook, `(sync itself ${status.last_duration_ms} ms)`);
} finally {
  await app.close();
  rmSync(root, { recursive: true, force: true });
}

const over = results.filter((r) => r.ms > r.target);
process.stdout.write(
  over.length ? `\n${over.length} figure(s) over target\n` : '\nall git sync figures within target\n',
);
process.exitCode = over.length ? 1 : 0;
