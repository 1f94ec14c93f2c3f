import { describe, expect, it } from 'vitest';
import { defaultConfig } from './config.js';
import { decodeConfig } from './decode.js';
import { decodeEngine } from './engine-config.js';
import { ConfigFileSchema } from './schema.js';

describe('config errors name the key and what it expects', () => {
  it.each([
    [{ server: { port: 'abc' } }, 'server.port must be an integer from 0 to 65535'],
    [{ server: { prot: 1 } }, 'unknown config key "server.prot" (known: host, port,'],
    [{ server: 'x' }, 'server must be a mapping'],
    [{ store: { type: 'x' } }, 'store.type must be one of memory, sqlite, dynamodb, postgres'],
    [{ sources: [{ type: 'git' }] }, 'sources[0].name is required'],
    [{ sources: [null] }, 'sources[0] must be a mapping'],
    [{ sources: 'x' }, 'sources must be a list'],
    [{ sources: [{ name: 's', url: 'u', paths: [1] }] }, 'sources[0].paths must be a list of strings'],
    [{ engines: [{ name: 'E' }] }, 'engines[0].name must be lowercase letters, digits and -'],
    [{ engines: [{ name: 'e', labels: { a: 1 } }] }, 'engines[0].labels must be a mapping of strings'],
    [{ engines: { items: 'x' } }, 'engines.items must be a list'],
    [{ engines: [{ name: 'e', type: 'foo' }] }, 'engines[0].type must be one of crossplane, pulumi, terraform, custom'],
    [{ events: { heartbeat: true } }, 'events.heartbeat must be a duration such as 500ms'],
    [{ log: { pretty: 'yes' } }, 'log.pretty must be true or false'],
    [{ discovery: { dns: {} } }, 'discovery.dns.domain is required'],
    [{ auth: { tokens: [{ name: 'x' }] } }, 'auth.tokens[0].token or auth.tokens[0].sha256 is required'],
  ])('%j', (raw, message) => {
    expect(() => decodeConfig(raw as Record<string, unknown>)).toThrow(
      expect.objectContaining({ code: 'invalid_request', message: expect.stringContaining(message) }),
    );
  });

  it('takes a null value as absent, as YAML writes an empty key', () => {
    const c = decodeConfig({ server: { port: null, host: null }, engines: [{ name: 'e', endpoint: null }] });
    expect(c.server.port).toBe(decodeConfig({}).server.port);
    expect(c.engines).toEqual([expect.objectContaining({ name: 'e', endpoint: null })]);
    // An explicit empty engines list (or null) means no engines, not the defaults.
    expect(decodeConfig({ engines: null }).engines).toEqual([]);
    expect(decodeConfig({}).engines.length).toBeGreaterThan(0);
  });

  it('decodes a POST /v1/engines body under the prefix it is given, coercing nothing', () => {
    expect(() => decodeEngine({ name: 'x', failure_threshold: '3' }, 'body')).toThrow(
      'body.failure_threshold must be an integer from 1 to 100',
    );
    expect(() => decodeEngine({ name: 'x', foo: 1 }, 'body')).toThrow('unknown config key "body.foo"');
    expect(() => decodeEngine(5, 'body')).toThrow('body must be a mapping');
    expect(decodeEngine({ name: 'x', interval: '2s', labels: { team: 'a' } }, 'body')).toMatchObject({
      name: 'x',
      type: 'custom',
      interval_ms: 2_000,
      labels: { team: 'a' },
    });
  });
});

describe('the config file schema', () => {
  it('names exactly the sections the environment may set (NESTOR_<SECTION>_<KEY>)', () => {
    const sections = Object.keys(defaultConfig()).filter((k) => k !== 'engine_allow_hosts');
    expect(Object.keys(ConfigFileSchema.properties).sort()).toEqual(sections.sort());
  });
});
