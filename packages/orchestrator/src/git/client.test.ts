import { describe, expect, it } from 'vitest';
import { gitCredentials } from './client.js';

const basic = (userAndPassword: string) => `Basic ${Buffer.from(userAndPassword).toString('base64')}`;

describe('gitCredentials: what reaches argv and what the environment', () => {
  it('sends a token_env token as a header and leaves the URL alone', () => {
    expect(gitCredentials('https://github.com/acme/c.git', 'tok')).toEqual({
      url: 'https://github.com/acme/c.git',
      authorization: basic('x-access-token:tok'),
    });
    expect(gitCredentials('file:///srv/c.git', 'tok').url).toBe('file:///srv/c.git');
  });

  it('takes user and password out of an https URL into the header, decoded', () => {
    expect(gitCredentials('https://deploy:p%40ss@git.example.com/c.git', null)).toEqual({
      url: 'https://git.example.com/c.git',
      authorization: basic('deploy:p@ss'),
    });
    // A lone user name in an https URL is a token.
    expect(gitCredentials('https://ghp_123@github.com/c.git', null)).toEqual({
      url: 'https://github.com/c.git',
      authorization: basic('x-access-token:ghp_123'),
    });
    // token_env wins over anything written into the URL, which is still removed.
    expect(gitCredentials('https://a:b@github.com/c.git', 'tok')).toEqual({
      url: 'https://github.com/c.git',
      authorization: basic('x-access-token:tok'),
    });
  });

  it('keeps the user of ssh URLs and drops an ssh password', () => {
    expect(gitCredentials('ssh://git@github.com/c.git', null)).toEqual({
      url: 'ssh://git@github.com/c.git',
      authorization: null,
    });
    expect(gitCredentials('ssh://git:pw@github.com/c.git', null).url).toBe('ssh://git@github.com/c.git');
    expect(gitCredentials('git@github.com:acme/c.git', null)).toEqual({
      url: 'git@github.com:acme/c.git',
      authorization: null,
    });
  });
});
