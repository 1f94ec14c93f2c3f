import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AddressLookup, classifyAddress, EndpointPolicy } from './endpoint-policy.js';

const strict = new EndpointPolicy({ allowHosts: [] });

function fixedLookup(answers: Record<string, string[]>): AddressLookup {
  return async (hostname) => {
    const list = answers[hostname];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('EndpointPolicy', () => {
  it.each([
    ['http://127.0.0.1:9000', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://0x7f.0.0.1/', 'loopback'],
    ['http://0x7f000001/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://[::1]:8080/', 'loopback'],
    ['http://[0:0:0:0:0:0:0:1]/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:7f00:1]/', 'loopback'],
    ['http://[2002:7f00:1::]/', 'loopback'],
    ['http://localhost:9000', 'loopback'],
    ['http://LOCALHOST./', 'loopback'],
    ['http://api.localhost/', 'loopback'],
    ['http://10.1.2.3/', 'private'],
    ['http://172.16.0.1/', 'private'],
    ['http://172.31.255.255/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://[fc00::1]/', 'private'],
    ['http://[fd12:3456::1]/', 'private'],
    ['http://100.64.0.1/', 'shared (CGNAT)'],
    ['http://100.127.255.254/', 'shared (CGNAT)'],
    ['http://169.254.1.1/', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://0/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
    ['http://169.254.169.254/latest/meta-data', 'metadata'],
    ['http://[::ffff:169.254.169.254]/', 'metadata'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://metadata.google.internal/computeMetadata/v1', 'metadata'],
    ['http://metadata.google.internal./', 'metadata'],
  ])('refuses %s as %s', async (endpoint, kind) => {
    const reason = strict.refusal(endpoint);
    expect(reason).toContain(kind);
    expect(reason).toContain('engines.allow_hosts');
    expect(await strict.check(endpoint)).toBe(reason);
  });

  it.each([
    'http://8.8.8.8/',
    'https://93.184.216.34:8443/healthz',
    'http://172.32.0.1/',
    'http://100.128.0.1/',
    'http://[2606:4700::1111]/',
  ])('lets the public address %s through', (endpoint) => {
    expect(strict.refusal(endpoint)).toBeNull();
  });

  it('refuses credentials and ambiguous authorities that could smuggle another host past the allow list', () => {
    const policy = new EndpointPolicy({ allowHosts: ['127.0.0.1'] });
    expect(policy.refusal('http://user:pw@8.8.8.8/')).toMatch(/credentials/);
    expect(policy.refusal('http://169.254.169.254\\@127.0.0.1/')).not.toBeNull();
    expect(policy.refusal('http://169.254.169.254#@127.0.0.1/')).not.toBeNull();
    expect(policy.refusal('ftp://8.8.8.8/')).toMatch(/http or https/);
  });

  it('matches allow_hosts against the host as written, not as it resolves or normalizes', async () => {
    const policy = new EndpointPolicy({
      allowHosts: ['127.0.0.1', 'LocalHost', '[::1]', 'engine.internal'],
      lookup: fixedLookup({ 'engine.internal': ['10.0.0.7'] }),
    });
    expect(policy.refusal('http://127.0.0.1:9000')).toBeNull();
    expect(policy.refusal('http://localhost:9000')).toBeNull();
    expect(policy.refusal('http://[::1]:9000')).toBeNull();
    expect(await policy.check('http://engine.internal:9000')).toBeNull();
    // Other spellings of an allowed address are not the host as written.
    expect(policy.refusal('http://2130706433/')).toContain('loopback');
    expect(policy.refusal('http://127.0.0.2/')).toContain('loopback');
  });

  it('refuses a name when any of its addresses is internal, and asks again every time', async () => {
    const answers: Record<string, string[]> = { 'engine.example.com': ['93.184.216.34'] };
    const policy = new EndpointPolicy({ allowHosts: [], lookup: fixedLookup(answers) });
    expect(await policy.check('http://engine.example.com/')).toBeNull();
    answers['engine.example.com'] = ['93.184.216.34', '::ffff:10.0.0.1'];
    expect(await policy.check('http://engine.example.com/')).toMatch(/resolves to ::ffff:10\.0\.0\.1, a private/);
    expect(await policy.check('http://nowhere.example.com/')).toBeNull();
  });

  it('gives up on a lookup that hangs without refusing', async () => {
    const policy = new EndpointPolicy({ allowHosts: [], lookup: () => new Promise(() => {}), lookupTimeoutMs: 20 });
    expect(await policy.check('http://slow.example.com/')).toBeNull();
  });

  it('refuses every notation of every loopback and private IPv4 address', () => {
    const internal = fc.oneof(
      fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(10), fc.nat(255), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(192), fc.constant(168), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), fc.nat(255), fc.nat(255)),
    );
    fc.assert(
      fc.property(internal, fc.nat(3), ([a, b, c, d], notation) => {
        const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
        const host = [
          `${a}.${b}.${c}.${d}`,
          String(n),
          `0x${n.toString(16)}`,
          [a, b, c, d].map((x) => `0${x.toString(8)}`).join('.'),
        ][notation] as string;
        expect(strict.refusal(`http://${host}:9000/`)).not.toBeNull();
        expect(strict.refusal(`http://[::ffff:${a}.${b}.${c}.${d}]/`)).not.toBeNull();
      }),
    );
  });

  it('classifies addresses as dns.lookup returns them', () => {
    expect(classifyAddress('127.0.0.53')).toBe('loopback');
    expect(classifyAddress('::ffff:192.168.0.1')).toBe('private');
    expect(classifyAddress('64:ff9b::a9fe:a9fe')).toBe('metadata');
    expect(classifyAddress('fe80::1%eth0')).toBe('link-local');
    expect(classifyAddress('1.1.1.1')).toBeNull();
    expect(classifyAddress('2001:4860:4860::8888')).toBeNull();
  });
});
