import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeConfig, loadConfig } from '../packages/orchestrator/src/config/load.js';
import { runCli as cli } from './cli-support.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nestor-bad-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}

const NO_STACK = /\n\s+at /;

describe('nestor serve refuses bad configuration with one line and exit 2', () => {
  const serve = (...args: string[]) => ['serve', '--store', 'memory', '--no-examples', '--data-dir', dir, ...args];

  it.each([
    [['--port', 'abc'], 'server.port'],
    [['--port', '99999'], 'server.port'],
    [['--port', '1e3'], 'server.port'],
    [['--port', ''], 'server.port'],
    [['--port', '80.5'], 'server.port'],
  ])('serve %j names %s', async (flags, key) => {
    const { code, err } = await cli(serve(...flags));
    expect(code).toBe(2);
    expect(err).toContain(key);
    expect(err).toContain('(invalid_request)');
    expect(err).not.toMatch(NO_STACK);
  });

  it('refuses an unknown store type before anything starts', async () => {
    const { code, err } = await cli(['serve', '--store', 'nope']);
    expect(code).toBe(2);
    expect(err).toMatch(/argument 'nope' is invalid/);
  });

  it.each([
    ['not YAML', 'a: [b\n', /is not valid YAML/],
    ['a YAML list', '- 1\n- 2\n', /must be a YAML mapping/],
    ['binary bytes', Buffer.from([0, 159, 146, 150, 255, 0, 1]), /YAML/],
    ['an unknown key', 'foo: 1\n', /unknown config key "foo"/],
    ['an unknown nested key', 'server:\n  prot: 1\n', /unknown config key "server.prot"/],
    ['a wrong type', 'server:\n  port: "abc"\n', /server.port must be an integer/],
    ['a section that is a string', 'server: x\n', /server must be a mapping/],
    ['a duration in words', 'events:\n  heartbeat: 5 years\n', /events.heartbeat must be a duration/],
    ['a duration a timer cannot hold', 'events:\n  heartbeat: 99999999h\n', /events.heartbeat must be from/],
    ['a zero heartbeat (a busy loop)', 'events:\n  heartbeat: 0\n', /events.heartbeat must be from 100 ms/],
    ['a zero compaction interval', 'events:\n  compaction_interval: 0s\n', /events.compaction_interval/],
    ['an engine probed every millisecond', 'engines:\n  - { name: e1, interval: 1ms }\n', /engines\[0\].interval/],
    ['an engine with a file URL', 'engines:\n  - { name: e1, endpoint: "file:///etc/passwd" }\n', /http or https/],
    [
      'a source interval of 30 days',
      'sources:\n  - { name: s, type: directory, path: ., interval: 720h }\n',
      /sources\[0\].interval/,
    ],
  ])('a config file with %s', async (_what, content, message) => {
    const path = file(`config-${Math.random().toString(36).slice(2)}.yaml`, content);
    const { code, err } = await cli(serve('--config', path));
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).not.toMatch(NO_STACK);
  });

  it('a config file that does not exist', async () => {
    const { code, err } = await cli(serve('--config', join(dir, 'missing.yaml')));
    expect(code).toBe(2);
    expect(err).toMatch(/cannot read config file .*ENOENT/);
  });

  it.each([
    [{ NESTOR_SERVER_PORT: 'abc' }, /server.port must be an integer/],
    [{ NESTOR_SERVER_PORT: '1.5' }, /server.port must be an integer/],
    [{ NESTOR_API_TOKENS: 'garbage' }, /NESTOR_API_TOKENS entry 1/],
    [{ NESTOR_API_TOKENS: ':' }, /NESTOR_API_TOKENS entry 1/],
    [{ NESTOR_API_TOKENS: 'tok:read+root' }, /NESTOR_API_TOKENS entry 1/],
    [{ NESTOR_SOURCES: '[{' }, /NESTOR_SOURCES/],
    [{ NESTOR_EVENTS_HEARTBEAT: '0' }, /events.heartbeat/],
  ])('environment %j', async (env, message) => {
    const { code, err } = await cli(['serve', '--no-examples', '--data-dir', dir], env);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).not.toContain('garbage');
    expect(err).not.toMatch(NO_STACK);
  });

  it('keeps durations that are long but not timers (event retention by age)', () => {
    const config = decodeConfig({ events: { retain_age: '2160h', heartbeat: '30s' }, cache: { ttl: '720h' } });
    expect(config.events.retain_age_ms).toBe(2160 * 3_600_000);
    expect(config.events.heartbeat_ms).toBe(30_000);
    expect(loadConfig({ port: '8081' }, {}).server.port).toBe(8081);
  });
});

describe('nestor validate on hostile trees', () => {
  it('reports a binary file and a symlink loop as file errors and exits 2', async () => {
    const tree = join(dir, 'tree');
    file('tree/binary/component.yaml', Buffer.from([0x00, 0xff, 0xfe, 0x00, 0x41]));
    file('tree/ok/component.yaml', 'name: x\n');
    mkdirSync(join(tree, 'loop'), { recursive: true });
    symlinkSync('..', join(tree, 'loop', 'again'));
    symlinkSync(join(tree, 'self.component.yaml'), join(tree, 'self.component.yaml'));
    const unreadable = file('tree/locked/component.yaml', 'name: locked\n');
    chmodSync(unreadable, 0o000);
    const started = Date.now();
    const { code, out, err } = await cli(['validate', tree]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(2);
    const text = out + err;
    expect(text).toMatch(/binary_file/);
    expect(text).not.toMatch(NO_STACK);
  });

  it('a path that does not exist is a file error, not a crash', async () => {
    const { code, out, err } = await cli(['validate', join(dir, 'nothing-here')]);
    expect(code).toBe(2);
    expect(out + err).toMatch(/file_not_found/);
  });
});

describe('nestor migrate', () => {
  it('fails fast with a clear message when DynamoDB cannot be reached', async () => {
    const started = Date.now();
    const { code, err } = await cli(['migrate', '--store', 'dynamodb'], {
      NESTOR_STORE_ENDPOINT: 'http://127.0.0.1:1',
      NESTOR_STORE_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(code).toBe(2);
    expect(err).toMatch(/storage_failure/);
    expect(err).toMatch(/ECONNREFUSED/);
    expect(err).not.toMatch(NO_STACK);
  });
});
