import { createHmac, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../packages/orchestrator/src/main.js';
import { componentYaml, eventually, TempRepo } from './git-helpers.js';
import { testConfig } from './helpers.js';

const SECRET = 'It’s a Secret to Everybody';
let app: App;
let repo: TempRepo;
let dataDir: string;

beforeAll(async () => {
  repo = new TempRepo();
  repo.write('base/component.yaml', componentYaml({ name: 'hook-base' }));
  repo.commit('base');
  const { config, dir } = testConfig((c) => {
    c.sources = [
      {
        name: 'platform',
        type: 'git',
        url: repo.url,
        path: null,
        branch: 'main',
        paths: ['**/component.yaml'],
        interval_ms: 0,
        webhook_secret_env: 'PLATFORM_HOOK_SECRET',
        token_env: null,
        ssh_key_path: null,
      },
      {
        name: 'unsigned',
        type: 'git',
        url: repo.url,
        path: null,
        branch: 'main',
        paths: ['**/component.yaml'],
        interval_ms: 0,
        webhook_secret_env: null,
        token_env: null,
        ssh_key_path: null,
      },
    ];
  });
  dataDir = dir;
  app = await buildApp(config, { env: { PLATFORM_HOOK_SECRET: SECRET } });
  await app.sources.sync('platform');
});

afterAll(async () => {
  await app.close();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

function githubSignature(body: string, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function pushPayload(ref = 'refs/heads/main', after = repo.head()) {
  return JSON.stringify({
    ref,
    before: '0'.repeat(40),
    after,
    repository: { full_name: 'platform/components', clone_url: repo.url },
    head_commit: { id: after, timestamp: '2015-05-05T19:40:15-04:00' },
  });
}

function github(body: string, headers: Record<string, string> = {}) {
  return app.server.inject({
    method: 'POST',
    url: '/v1/webhooks/platform',
    payload: body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': githubSignature(body),
      'user-agent': 'GitHub-Hookshot/abc',
      ...headers,
    },
  });
}

describe('GitHub webhooks', () => {
  it('answers a signed ping with pong', async () => {
    const body = JSON.stringify({ zen: 'Design for failure.', hook_id: 1 });
    const res = await github(body, { 'x-github-event': 'ping' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'pong', provider: 'github' });
  });

  it('accepts a signed push to the followed branch and the change becomes readable', async () => {
    repo.write('gh/component.yaml', componentYaml({ name: 'hook-github' }));
    repo.commit('github push');
    const res = await github(pushPayload());
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'accepted', source: 'platform', commit: repo.head() });
    const found = await eventually(async () => {
      const r = await app.server.inject({ method: 'GET', url: '/v1/components/hook-github' });
      return r.statusCode === 200 ? r.json<{ git_commit: string }>() : null;
    });
    expect(found.git_commit).toBe(repo.head());
  });

  it('accepts the form-encoded payload GitHub sends for application/x-www-form-urlencoded hooks', async () => {
    const body = `payload=${encodeURIComponent(pushPayload())}`;
    const res = await github(body, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-hub-signature-256': githubSignature(body),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'accepted' });
  });

  it('refuses missing, wrong and mangled signatures with 401 invalid_signature', async () => {
    const body = pushPayload();
    const cases: Record<string, string | undefined>[] = [
      { 'x-hub-signature-256': undefined },
      { 'x-hub-signature-256': githubSignature(body, 'wrong secret') },
      { 'x-hub-signature-256': githubSignature(`${body} `) },
      { 'x-hub-signature-256': 'sha256=zz' },
      { 'x-hub-signature-256': githubSignature(body).replace('sha256=', 'sha1=') },
    ];
    for (const headers of cases) {
      const h = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<
        string,
        string
      >;
      const res = await app.server.inject({
        method: 'POST',
        url: '/v1/webhooks/platform',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': randomUUID(),
          ...(headers['x-hub-signature-256'] === undefined ? {} : h),
        },
      });
      expect(res.statusCode, JSON.stringify(headers)).toBe(401);
      expect(res.json()).toMatchObject({ code: 'invalid_signature' });
    }
    const bare = await app.server.inject({ method: 'POST', url: '/v1/webhooks/platform', payload: body });
    expect(bare.statusCode).toBe(401);
  });

  it('ignores pushes to other branches and non-push events', async () => {
    const other = await github(pushPayload('refs/heads/feature/x'));
    expect(other.statusCode).toBe(202);
    expect(other.json()).toMatchObject({ status: 'ignored' });
    const tag = await github(pushPayload('refs/tags/v1.0.0'));
    expect(tag.json()).toMatchObject({ status: 'ignored' });
    const issue = await github(JSON.stringify({ action: 'opened' }), { 'x-github-event': 'issues' });
    expect(issue.statusCode).toBe(202);
    expect(issue.json()).toMatchObject({ status: 'ignored' });
  });

  it('treats a repeated delivery id as a harmless duplicate', async () => {
    const delivery = randomUUID();
    const first = await github(pushPayload(), { 'x-github-delivery': delivery });
    const again = await github(pushPayload(), { 'x-github-delivery': delivery });
    expect(first.json()).toMatchObject({ status: 'accepted' });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ status: 'duplicate' });
  });

  it('answers 404 source_not_found for an unknown source and 401 for a source without a secret', async () => {
    const body = pushPayload();
    const unknown = await app.server.inject({
      method: 'POST',
      url: '/v1/webhooks/nope',
      payload: body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-hub-signature-256': githubSignature(body),
      },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'source_not_found' });
    const unsigned = await app.server.inject({
      method: 'POST',
      url: '/v1/webhooks/unsigned',
      payload: body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-hub-signature-256': githubSignature(body),
      },
    });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json()).toMatchObject({ code: 'invalid_signature' });
  });

  it('answers a bad payload with 400 once the signature is right, and keeps serving', async () => {
    const body = '{"ref": ';
    const res = await github(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_request' });
    expect((await app.server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('GitLab webhooks', () => {
  function gitlab(body: string, token: string | null, event = 'Push Hook', uuid = randomUUID()) {
    return app.server.inject({
      method: 'POST',
      url: '/v1/webhooks/platform',
      payload: body,
      headers: {
        'content-type': 'application/json',
        'x-gitlab-event': event,
        'x-gitlab-event-uuid': uuid,
        'x-gitlab-instance': 'https://gitlab.example.com',
        ...(token === null ? {} : { 'x-gitlab-token': token }),
      },
    });
  }

  const payload = (ref = 'refs/heads/main') =>
    JSON.stringify({
      object_kind: 'push',
      event_name: 'push',
      ref,
      before: '0'.repeat(40),
      after: repo.head(),
      checkout_sha: repo.head(),
      project: { path_with_namespace: 'platform/components' },
    });

  it('accepts a push with the right token and refuses a wrong or missing one', async () => {
    repo.write('gl/component.yaml', componentYaml({ name: 'hook-gitlab' }));
    repo.commit('gitlab push');
    const ok = await gitlab(payload(), SECRET);
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toMatchObject({ status: 'accepted', commit: repo.head() });
    await eventually(
      async () => (await app.server.inject({ method: 'GET', url: '/v1/components/hook-gitlab' })).statusCode === 200,
    );
    expect((await gitlab(payload(), 'wrong')).statusCode).toBe(401);
    expect((await gitlab(payload(), `${SECRET}x`)).statusCode).toBe(401);
    const missing = await gitlab(payload(), null);
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ code: 'invalid_signature' });
  });

  it('ignores other branches and other events, and duplicates by event UUID', async () => {
    expect((await gitlab(payload('refs/heads/dev'), SECRET)).json()).toMatchObject({ status: 'ignored' });
    expect((await gitlab('{"object_kind":"issue"}', SECRET, 'Issue Hook')).json()).toMatchObject({ status: 'ignored' });
    const uuid = randomUUID();
    expect((await gitlab(payload(), SECRET, 'Push Hook', uuid)).json()).toMatchObject({ status: 'accepted' });
    expect((await gitlab(payload(), SECRET, 'Push Hook', uuid)).json()).toMatchObject({ status: 'duplicate' });
  });
});

describe('Gitea webhooks', () => {
  function gitea(body: string, signature: string, extra: Record<string, string> = {}) {
    return app.server.inject({
      method: 'POST',
      url: '/v1/webhooks/platform',
      payload: body,
      headers: {
        'content-type': 'application/json',
        'x-gitea-event': 'push',
        'x-gitea-delivery': randomUUID(),
        'x-gitea-signature': signature,
        // Gitea also sends GitHub's headers; the Gitea ones must win.
        'x-github-event': 'push',
        ...extra,
      },
    });
  }
  const hex = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

  it('accepts a push signed with X-Gitea-Signature and refuses a bad one', async () => {
    repo.write('gt/component.yaml', componentYaml({ name: 'hook-gitea' }));
    repo.commit('gitea push');
    const body = JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after: repo.head() });
    const ok = await gitea(body, hex(body));
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toMatchObject({ status: 'accepted' });
    await eventually(
      async () => (await app.server.inject({ method: 'GET', url: '/v1/components/hook-gitea' })).statusCode === 200,
    );
    const bad = await gitea(body, hex(body, 'nope'));
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ code: 'invalid_signature' });
  });
});

describe('source events', () => {
  it('announces each sync that changed something with one source.synced event', async () => {
    await app.sources.sync('platform');
    const events = (await app.store.readEvents(0, 1000)).filter((e) => e.type === 'source.synced');
    expect(events.length).toBeGreaterThanOrEqual(4);
    for (const e of events) expect(e.subject).toEqual({ name: 'platform', version: null, digest: null });
    const heads = events.map((e) => (e.data as { commit: string }).commit);
    expect(new Set(heads).size).toBe(heads.length);
  });
});
