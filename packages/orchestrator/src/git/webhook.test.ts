import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSupportedBranch, isSupportedUrl, redactUrl } from './client.js';
import {
  BodySignature,
  DeliveryDeduper,
  identifyProvider,
  parseDelivery,
  signatureHeaders,
  verifySignature,
} from './webhook.js';

describe('verifySignature', () => {
  it("matches GitHub's documented example", () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const body = Buffer.from('Hello, World!');
    const headers = {
      'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    };
    expect(verifySignature('github', headers, body, "It's a Secret to Everybody")).toBe(true);
    expect(verifySignature('github', headers, body, "It's a Secret to Everybody!")).toBe(false);
    expect(verifySignature('github', headers, Buffer.from('Hello, World?'), "It's a Secret to Everybody")).toBe(false);
  });

  it('never accepts an arbitrary signature header', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ maxLength: 200 }), (sig, body) => {
        for (const provider of ['github', 'gitea'] as const) {
          const headers = { 'x-hub-signature-256': sig, 'x-gitea-signature': sig };
          expect(verifySignature(provider, headers, Buffer.from(body), 'secret')).toBe(false);
        }
        expect(verifySignature('gitlab', { 'x-gitlab-token': sig }, Buffer.from(body), 'the-real-token')).toBe(
          sig === 'the-real-token',
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('signatureHeaders (judged before the body is read)', () => {
  const hex = (body: Buffer, secret: string) => createHmac('sha256', secret).update(body).digest('hex');

  it('refuses missing and malformed signatures and wrong GitLab tokens from the headers alone', () => {
    const refused: [Parameters<typeof signatureHeaders>[0], Record<string, string>][] = [
      ['github', {}],
      ['github', { 'x-hub-signature-256': 'sha256=zz' }],
      ['github', { 'x-hub-signature-256': `sha1=${'0'.repeat(40)}` }],
      ['github', { 'x-hub-signature-256': `sha256=${'0'.repeat(63)}` }],
      ['gitea', { 'x-gitea-signature': 'not hex' }],
      ['gitea', {}],
      ['gitlab', {}],
      ['gitlab', { 'x-gitlab-token': 'wrong' }],
      ['gitlab', { 'x-gitlab-token': 'secretx' }],
    ];
    for (const [provider, headers] of refused) {
      const verdict = signatureHeaders(provider, headers, 'secret');
      expect(verdict.ok, `${provider} ${JSON.stringify(headers)}`).toBe(false);
      if (!verdict.ok) expect(verdict.reason).toMatch(provider === 'gitlab' ? /X-Gitlab-Token/ : /signature/);
    }
    expect(signatureHeaders('gitlab', { 'x-gitlab-token': 'secret' }, 'secret')).toEqual({ ok: true, signature: null });
    const github = signatureHeaders('github', { 'x-hub-signature-256': `sha256=${'a'.repeat(64)}` }, 'secret');
    expect(github.ok && github.signature instanceof BodySignature).toBe(true);
  });

  it('gives the same verdict fed in random chunks as over the whole body', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 4096 }),
        fc.array(fc.nat(4096), { maxLength: 8 }),
        fc.boolean(),
        (bytes, cuts, signedRight) => {
          const body = Buffer.from(bytes);
          const headers = { 'x-hub-signature-256': `sha256=${hex(body, signedRight ? 'secret' : 'other')}` };
          const verdict = signatureHeaders('github', headers, 'secret');
          if (!verdict.ok || verdict.signature === null) throw new Error('a well-formed signature was refused');
          const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
          let from = 0;
          for (const to of [...points, body.length]) {
            verdict.signature.update(body.subarray(from, to));
            from = to;
          }
          expect(verdict.signature.matches()).toBe(signedRight);
          expect(verifySignature('github', headers, body, 'secret')).toBe(signedRight);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('identifyProvider and parseDelivery', () => {
  it('recognises Gitea before GitHub (Gitea sends both header sets)', () => {
    expect(identifyProvider({ 'x-gitea-event': 'push', 'x-github-event': 'push' })).toBe('gitea');
    expect(identifyProvider({ 'x-gitlab-event': 'Push Hook' })).toBe('gitlab');
    expect(identifyProvider({ 'x-github-event': 'ping' })).toBe('github');
    expect(identifyProvider({ 'content-type': 'application/json' })).toBeNull();
  });

  it('reads ref, head and delivery id of each provider', () => {
    const body = Buffer.from(
      JSON.stringify({ ref: 'refs/heads/main', after: 'b'.repeat(40), checkout_sha: 'c'.repeat(40) }),
    );
    expect(
      parseDelivery('github', { 'x-github-event': 'push', 'x-github-delivery': 'd1' }, body, 'application/json'),
    ).toEqual({
      provider: 'github',
      event: 'push',
      kind: 'push',
      deliveryId: 'd1',
      ref: 'refs/heads/main',
      after: 'b'.repeat(40),
    });
    expect(parseDelivery('gitlab', { 'x-gitlab-event': 'Push Hook' }, body, null).after).toBe('c'.repeat(40));
    expect(parseDelivery('gitea', { 'x-gitea-event': 'push', 'x-gitea-delivery': 'g1' }, body, null).deliveryId).toBe(
      'g1',
    );
    expect(() => parseDelivery('github', { 'x-github-event': 'push' }, Buffer.from('[1]'), null)).toThrow(
      /JSON object/,
    );
  });
});

describe('DeliveryDeduper', () => {
  it('remembers ids within the window only', () => {
    let now = 0;
    const dedupe = new DeliveryDeduper({ windowMs: 1000, clock: { now: () => new Date(now) } });
    expect(dedupe.check('a')).toBe(false);
    expect(dedupe.check('a')).toBe(true);
    now = 2000;
    expect(dedupe.check('a')).toBe(false);
  });
});

describe('git client inputs', () => {
  it('redacts credentials and refuses transports that run commands', () => {
    expect(redactUrl('https://user:tok@github.com/o/r.git')).toBe('https://github.com/o/r.git');
    expect(redactUrl('git@github.com:o/r.git')).toBe('git@github.com:o/r.git');
    expect(isSupportedUrl('ext::sh -c touch% /tmp/pwned')).toBe(false);
    expect(isSupportedUrl('--upload-pack=touch /tmp/x')).toBe(false);
    expect(isSupportedUrl('file:///srv/repo.git')).toBe(true);
    expect(isSupportedUrl('git@github.com:o/r.git')).toBe(true);
    expect(isSupportedBranch('main')).toBe(true);
    expect(isSupportedBranch('release/1.x')).toBe(true);
    for (const bad of ['-x', 'a..b', 'a:b', 'a b', 'x.lock', 'a//b', 'a/']) expect(isSupportedBranch(bad)).toBe(false);
  });
});
