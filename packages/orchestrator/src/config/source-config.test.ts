import { NestorError } from '@nestor/sdk';
import { describe, expect, it } from 'vitest';
import { SYNC_LIMIT_DEFAULTS } from './config.js';
import { decodeConfig } from './load.js';

function source(extra: Record<string, unknown>) {
  return decodeConfig({ sources: [{ name: 'platform', url: 'https://git.example.com/acme/components.git', ...extra }] })
    .sources[0];
}

function refused(extra: Record<string, unknown>): NestorError {
  try {
    source(extra);
  } catch (err) {
    if (NestorError.is(err)) return err;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('source config: sync limits', () => {
  it('defaults to 20 000 files and 256 MiB, and takes a value per source', () => {
    expect(SYNC_LIMIT_DEFAULTS).toEqual({ max_files: 20_000, max_bytes: 268_435_456 });
    expect(source({})).toMatchObject({ max_files: 20_000, max_bytes: 268_435_456 });
    expect(source({ max_files: 50, max_bytes: 4096 })).toMatchObject({ max_files: 50, max_bytes: 4096 });
  });

  it('refuses limits that are not positive integers, naming the key', () => {
    for (const bad of [0, -1, 1.5, '100']) {
      const err = refused({ max_files: bad });
      expect(err.code).toBe('invalid_request');
      expect(err.message).toContain('sources[0].max_files');
    }
    expect(refused({ max_bytes: 10 }).message).toContain('sources[0].max_bytes');
  });
});

describe('source config: max_orphan_ratio', () => {
  it('defaults to 0.5 and takes any share from 0 to 1', () => {
    expect(source({})).toMatchObject({ max_orphan_ratio: 0.5 });
    for (const ratio of [0, 0.25, 1])
      expect(source({ max_orphan_ratio: ratio })).toMatchObject({ max_orphan_ratio: ratio });
  });

  it('refuses a ratio outside 0..1 or not a number, naming the key', () => {
    for (const bad of [-0.1, 1.5, 50, '0.5', true]) {
      const err = refused({ max_orphan_ratio: bad });
      expect(err.code).toBe('invalid_request');
      expect(err.message).toContain('sources[0].max_orphan_ratio');
    }
  });
});

describe('source config: credentials in URLs', () => {
  it('refuses a password or an https user (a token) in the URL and points to token_env', () => {
    for (const url of [
      'https://deploy:s3cr3t@git.example.com/acme/components.git',
      'https://ghp_abcdef123456@github.com/acme/components.git',
      'http://user:pass@git.local/x.git',
      'ssh://git:hunter2@git.example.com/acme/components.git',
    ]) {
      const err = refused({ url });
      expect(err.code).toBe('invalid_request');
      expect(err.message).toContain('sources[0].url must not carry credentials');
      expect(err.message).toContain('sources[0].token_env');
      expect(err.message).not.toMatch(/s3cr3t|ghp_abcdef|hunter2|pass@/);
    }
  });

  it('accepts URLs whose user is not a secret', () => {
    for (const url of [
      'ssh://git@github.com/acme/components.git',
      'git@github.com:acme/components.git',
      'file:///srv/components.git',
      'https://github.com/acme/components.git',
    ]) {
      expect(source({ url, token_env: 'NESTOR_PLATFORM_TOKEN' })?.url).toBe(url);
    }
  });
});
