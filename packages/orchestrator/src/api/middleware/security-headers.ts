import helmet from '@fastify/helmet';
import Fastify from 'fastify';

/**
 * What @fastify/helmet is told: a JSON API has nothing to run or embed, so the policy allows
 * nothing (`default-src 'none'`) and no framing; the catalog browser's routes set their own policy
 * (api/web.ts). HSTS is left to the TLS terminator, which knows whether TLS is in use.
 * Helmet's other defaults (COOP, CORP, Origin-Agent-Cluster, X-DNS-Prefetch-Control,
 * X-Download-Options, X-Permitted-Cross-Domain-Policies, X-XSS-Protection) govern documents a
 * browser renders, which a JSON answer under `nosniff` and this CSP never is; each header costs
 * every answer its validation and bytes (about 1 µs apiece on a warm read), so they are off.
 */
const HELMET_OPTIONS = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  frameguard: { action: 'deny' as const },
  referrerPolicy: { policy: 'no-referrer' as const },
  strictTransportSecurity: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  crossOriginEmbedderPolicy: false,
  originAgentCluster: false,
  dnsPrefetchControl: false,
  ieNoOpen: false,
  permittedCrossDomainPolicies: false,
  xssFilter: false,
};

/**
 * The headers @fastify/helmet sets, computed once. The plugin rebuilds helmet's middleware on every
 * request in two extra hooks (about 4 µs each time); the headers never depend on the request, so
 * they are read off one injected request at start-up and set as a constant object by the server's
 * own hook, the response cache's socket-level fast path and the raw error writers alike.
 */
export async function securityHeaders(): Promise<Readonly<Record<string, string>>> {
  const probe = Fastify({ logger: false });
  await probe.register(helmet, HELMET_OPTIONS);
  probe.get('/', async () => '');
  const res = await probe.inject({ method: 'GET', url: '/' });
  await probe.close();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (SECURITY_HEADER.test(name) && typeof value === 'string') headers[name] = value;
  }
  if (headers['x-content-type-options'] !== 'nosniff') {
    throw new Error('@fastify/helmet did not produce X-Content-Type-Options: nosniff');
  }
  return Object.freeze(headers);
}

/** Headers helmet owns (everything else on the probe answer is Fastify's own). */
const SECURITY_HEADER =
  /^(content-security-policy|cross-origin-.*|origin-agent-cluster|referrer-policy|strict-transport-security|x-content-type-options|x-dns-prefetch-control|x-download-options|x-frame-options|x-permitted-cross-domain-policies|x-xss-protection)$/;
