import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { App } from '../packages/orchestrator/src/main.js';
import { TempRepo } from './git-helpers.js';
import { AUTH, TOKENS, testApp } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The shell the CI files run, as the runners run it: GitHub Actions joins nothing (one `run:` block
 * per step, `bash -eo pipefail`); GitLab runs the `script:` lines in one shell, stopping at the
 * first failure. `nestor` is the CLI built from this checkout, as the image puts it on PATH.
 */
interface Recipe {
  scripts: string[];
  /** Variables the file itself sets (secrets, `${{ }}` expressions, are the caller's). */
  env: Record<string, string>;
}

function literal(vars: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(vars ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string' && !e[1].includes('${{')),
  );
}

function github(job: string): Recipe {
  const wf = parse(readFileSync(join(ROOT, 'examples/ci/.github/workflows/components.yml'), 'utf8')) as {
    env?: Record<string, unknown>;
    jobs: Record<string, { env?: Record<string, unknown>; steps: { run?: string }[] }>;
  };
  const j = wf.jobs[job];
  return {
    scripts: (j?.steps ?? []).flatMap((s) => (s.run ? [s.run] : [])),
    env: { ...literal(wf.env), ...literal(j?.env) },
  };
}

function gitlab(job: string): Recipe {
  const ci = parse(readFileSync(join(ROOT, 'examples/ci/.gitlab-ci.yml'), 'utf8')) as Record<string, unknown> & {
    variables?: Record<string, unknown>;
  };
  const j = ci[job] as { script?: unknown[]; variables?: Record<string, unknown> } | undefined;
  const lines = j?.script ?? [];
  for (const line of lines)
    if (typeof line !== 'string') throw new Error(`script line is not a string: ${JSON.stringify(line)}`);
  return { scripts: [lines.join('\n')], env: { ...literal(ci.variables), ...literal(j?.variables) } };
}

let bin: string;
let home: string;
let app: App;
let url: string;
let upstream: TempRepo;
const cleanups: (() => Promise<void> | void)[] = [];

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

function component(name: string, version: string, extra = ''): string {
  return `# yaml-language-server: $schema=https://nestor.example.com/v1/schemas/component.json
name: ${name}
version: ${version}
provider: aws
category: network
resource_type: aws_vpc
deployment_engines: [terraform]
outputs:
  - name: vpc_id
    type: string
${extra}`;
}

/** Async: the server answering the scripts lives in this process, so its event loop must run. */
function sh(
  cwd: string,
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      cwd,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: home, ...GIT_IDENTITY, ...env },
      timeout: 120_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

async function runAll(cwd: string, recipe: Recipe, given: Record<string, string>) {
  const env = { ...recipe.env, ...given };
  let out = '';
  let err = '';
  for (const script of recipe.scripts) {
    const r = await sh(cwd, script, env);
    out += r.out;
    err += r.err;
    if (r.code !== 0) return { code: r.code, out, err };
  }
  return { code: 0, out, err };
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, HOME: home, ...GIT_IDENTITY },
    encoding: 'utf8',
  }).trim();
}

beforeAll(async () => {
  // The image runs the compiled CLI; build it from this checkout (a no-op when dist is fresh).
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-b', 'packages/sdk', 'packages/orchestrator'], { cwd: ROOT });
  bin = mkdtempSync(join(tmpdir(), 'nestor-ci-bin-'));
  home = mkdtempSync(join(tmpdir(), 'nestor-ci-home-'));
  cleanups.push(
    () => rmSync(bin, { recursive: true, force: true }),
    () => rmSync(home, { recursive: true, force: true }),
  );
  writeFileSync(
    join(bin, 'nestor'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'packages/orchestrator/bin/nestor.js')}" "$@"\n`,
  );
  chmodSync(join(bin, 'nestor'), 0o755);

  upstream = new TempRepo();
  cleanups.push(() => upstream.cleanup());
  upstream.write('network/vpc/component.yaml', component('ci-vpc', '1.0.0')).commit('first component');
  // Let clones push to the checked-out branch, as a hosted remote would accept them.
  upstream.git('config', 'receive.denyCurrentBranch', 'updateInstead');

  const built = await testApp((c) => {
    c.sources = [
      {
        name: 'platform',
        type: 'git',
        url: upstream.url,
        path: null,
        branch: 'main',
        paths: ['**/component.yaml', '**/*.component.yaml'],
        interval_ms: 0,
        webhook_secret_env: null,
        token_env: null,
        ssh_key_path: null,
        max_files: 10_000,
        max_bytes: 64 * 1024 * 1024,
      },
    ];
  });
  app = built.app;
  cleanups.push(built.cleanup);
  url = await app.server.listen({ host: '127.0.0.1', port: 0 });
  // The catalog holds the first version, as it would after the first merge.
  await app.server.inject({ method: 'POST', url: '/v1/sources/platform/sync', headers: AUTH.admin });
  for (let i = 0; i < 200; i++) {
    const res = await app.server.inject({ method: 'GET', url: '/v1/components/ci-vpc' });
    if (res.statusCode === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A pull request: a clone of upstream on a branch with `files` changed, as the runner checks it out. */
function pullRequest(name: string, files: Record<string, string>): string {
  const checkout = mkdtempSync(join(tmpdir(), `nestor-ci-${name}-`));
  cleanups.push(() => rmSync(checkout, { recursive: true, force: true }));
  git(tmpdir(), 'clone', '--quiet', upstream.dir, checkout);
  git(checkout, 'checkout', '--quiet', '-b', name);
  for (const [path, text] of Object.entries(files)) {
    execFileSync('mkdir', ['-p', join(checkout, path, '..')]);
    writeFileSync(join(checkout, path), text);
  }
  git(checkout, 'add', '--all');
  git(checkout, 'commit', '--quiet', '-m', name);
  return checkout;
}

const BAD = {
  'network/vpc/component.yaml': component('ci-vpc', '1.1.0'),
  'network/subnet/component.yaml': `${component('ci-subnet', '1.0.0').replace('aws_vpc', 'aws_subnet')}requred_inputs: []\n`,
  // Unchanged files are not validated: a broken file elsewhere must not be reported.
};
const BREAKING = { 'network/vpc/component.yaml': component('ci-vpc', '1.1.0').replace(/outputs:[\s\S]*$/, '') };
const GOOD = {
  'network/vpc/component.yaml': component('ci-vpc', '1.1.0', '  - name: cidr\n    type: string\n'),
  'network/subnet/component.yaml': component('ci-subnet', '1.0.0').replace('aws_vpc', 'aws_subnet'),
};

describe('examples/ci/.github/workflows/components.yml', () => {
  const env = () => ({ NESTOR_URL: url, NESTOR_TOKEN: TOKENS.read, GITHUB_BASE_REF: 'main' });

  it('annotates a misspelt key in a changed file and fails the check', async () => {
    const r = await runAll(pullRequest('gh-typo', BAD), github('validate'), env());
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /^::error file=network\/subnet\/component\.yaml,line=\d+,col=\d+,title=[^:]*::.*requred_inputs/m,
    );
  });

  it('annotates a breaking change published as a minor version at the version line', async () => {
    const checkout = pullRequest('gh-breaking', BREAKING);
    const r = await runAll(checkout, github('validate'), env());
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^::error file=network\/vpc\/component\.yaml,line=3,col=\d+,.*insufficient_version_bump/m);
    const sarif = JSON.parse(readFileSync(join(checkout, 'nestor.sarif'), 'utf8')) as {
      runs: { results: { ruleId: string }[] }[];
    };
    expect(sarif.runs[0]?.results.map((x) => x.ruleId)).toContain('insufficient_version_bump');
  });

  it('passes a good change, then publishes it on merge', async () => {
    const checkout = pullRequest('gh-good', GOOD);
    const r = await runAll(checkout, github('validate'), env());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    git(checkout, 'push', '--quiet', 'origin', 'HEAD:main');
    const sha = git(checkout, 'rev-parse', 'HEAD');
    const published = await runAll(checkout, github('publish'), {
      NESTOR_URL: url,
      NESTOR_ADMIN_TOKEN: TOKENS.admin,
      GITHUB_SHA: sha,
    });
    expect(published.code, published.out + published.err).toBe(0);
    const res = await app.server.inject({ method: 'GET', url: '/v1/components/ci-vpc/versions/1.1.0' });
    expect(res.statusCode).toBe(200);
  });

  it('says so and passes when no component changed', async () => {
    const r = await runAll(pullRequest('gh-none', { 'README.md': '# docs only\n' }), github('validate'), env());
    expect(r.code).toBe(0);
    expect(r.out).toContain('No component file changed.');
  });
});

describe('examples/ci/.gitlab-ci.yml', () => {
  const env = () => ({ NESTOR_URL: url, NESTOR_TOKEN: TOKENS.read, CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main' });

  it('fails a merge request with a JUnit report naming the component and a readable log', async () => {
    const checkout = pullRequest('gl-breaking', BREAKING);
    const r = await runAll(checkout, gitlab('validate-components'), env());
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/✖ ci-vpc@1\.1\.0/);
    expect(readFileSync(join(checkout, 'nestor-junit.xml'), 'utf8')).toMatch(
      /<testcase name="ci-vpc@1\.1\.0"[^>]*>\s*<failure[^>]*type="insufficient_version_bump"/,
    );
  });

  it('passes a good merge request and publishes on the default branch', async () => {
    const checkout = pullRequest('gl-good', {
      'network/vpc/component.yaml': component(
        'ci-vpc',
        '1.2.0',
        '  - name: cidr\n    type: string\n  - name: arn\n    type: string\n',
      ),
    });
    const r = await runAll(checkout, gitlab('validate-components'), env());
    expect(r.code, r.out + r.err).toBe(0);
    git(checkout, 'push', '--quiet', 'origin', 'HEAD:main');
    const sha = git(checkout, 'rev-parse', 'HEAD');
    const published = await runAll(checkout, gitlab('publish-components'), {
      NESTOR_URL: url,
      NESTOR_ADMIN_TOKEN: TOKENS.admin,
      CI_COMMIT_SHA: sha,
    });
    expect(published.code, published.out + published.err).toBe(0);
    const res = await app.server.inject({ method: 'GET', url: '/v1/components/ci-vpc/versions/1.2.0' });
    expect(res.statusCode).toBe(200);
  });
});
