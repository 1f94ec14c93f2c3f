import { createHash, createHmac, type Hmac, timingSafeEqual } from 'node:crypto';
import { create, type NestorError } from '@nestor/sdk';
import type { Clock } from '../observability/clock.js';
import { systemClock } from '../observability/clock.js';

export type WebhookProvider = 'github' | 'gitlab' | 'gitea';

/** Request headers as Node gives them (lower-case names). */
export type Headers = Record<string, string | string[] | undefined>;

/** What a verified delivery asks for. */
export interface WebhookDelivery {
  provider: WebhookProvider;
  /** Provider event name: `push`, `ping`, `Push Hook`, ... */
  event: string;
  kind: 'ping' | 'push' | 'other';
  /** Delivery id for de-duplication; null when the provider sent none. */
  deliveryId: string | null;
  /** `refs/heads/main` for a push. */
  ref: string | null;
  /** Commit the branch points to after the push. */
  after: string | null;
}

const COMPONENT = 'webhooks';

function header(headers: Headers, name: string): string | null {
  const value = headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

/**
 * Which provider sent a request, by its headers. Gitea and Forgejo also send GitHub's headers for
 * compatibility, so they are recognised first.
 */
export function identifyProvider(headers: Headers): WebhookProvider | null {
  if (header(headers, 'x-gitea-event') || header(headers, 'x-forgejo-event') || header(headers, 'x-gitea-signature')) {
    return 'gitea';
  }
  if (header(headers, 'x-gitlab-event') || header(headers, 'x-gitlab-token')) return 'gitlab';
  if (header(headers, 'x-github-event') || header(headers, 'x-hub-signature-256')) return 'github';
  return null;
}

/** Constant-time comparison of two secrets of any length (hashing hides the length). */
function sameSecret(expected: string, presented: string | null): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256')
    .update(presented ?? '')
    .digest();
  return timingSafeEqual(a, b) && presented !== null;
}

/**
 * HMAC-SHA256 of a body fed chunk by chunk as it arrives, so a signature is checked without first
 * holding the whole body; `matches()` compares with the presented digest in constant time.
 */
export class BodySignature {
  private readonly hmac: Hmac;
  private readonly presented: Buffer;

  /** `presentedHex` must be 64 hex digits (`signatureHeaders` only builds one from such a header). */
  constructor(secret: string, presentedHex: string) {
    this.hmac = createHmac('sha256', secret);
    this.presented = Buffer.from(presentedHex, 'hex');
  }

  update(chunk: Buffer): void {
    this.hmac.update(chunk);
  }

  /** Call once, after the last chunk. */
  matches(): boolean {
    return timingSafeEqual(this.hmac.digest(), this.presented);
  }
}

/**
 * What the headers alone say about a delivery: refused (with the reason), authenticated (GitLab's
 * token is the whole proof), or a body signature still to check while the body streams in.
 */
export type HeaderVerdict = { ok: false; reason: string } | { ok: true; signature: BodySignature | null };

const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

/**
 * Checks everything a delivery's headers can prove before a byte of its body is read:
 * GitHub `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`;
 * Gitea/Forgejo `X-Gitea-Signature: <hex HMAC-SHA256>` (or GitHub's header, which Gitea also sends);
 * GitLab `X-Gitlab-Token: <secret>`, compared in constant time here. A missing or malformed
 * signature is refused without reading the body; a well-formed one becomes a `BodySignature`.
 */
export function signatureHeaders(provider: WebhookProvider, headers: Headers, secret: string): HeaderVerdict {
  switch (provider) {
    case 'github':
    case 'gitea': {
      const hub = header(headers, 'x-hub-signature-256');
      const hubHex = hub?.startsWith('sha256=') ? hub.slice('sha256='.length) : null;
      const hex =
        provider === 'gitea'
          ? (header(headers, 'x-gitea-signature') ?? header(headers, 'x-forgejo-signature') ?? hubHex)
          : hubHex;
      const expected = provider === 'gitea' ? 'X-Gitea-Signature' : 'X-Hub-Signature-256: sha256=<hex>';
      if (hex === null) return { ok: false, reason: `no ${provider} webhook signature: expected ${expected}` };
      if (!HEX_DIGEST.test(hex)) {
        return { ok: false, reason: `the ${provider} webhook signature is not a hex HMAC-SHA256 digest` };
      }
      return { ok: true, signature: new BodySignature(secret, hex) };
    }
    case 'gitlab':
      return sameSecret(secret, header(headers, 'x-gitlab-token'))
        ? { ok: true, signature: null }
        : { ok: false, reason: 'the X-Gitlab-Token does not match the secret of the source' };
  }
}

/**
 * Checks a whole delivery (headers and body) with the source's secret; every comparison is
 * constant-time. The server checks the same way in two steps (`signatureHeaders` before the body,
 * `BodySignature` while it streams).
 */
export function verifySignature(provider: WebhookProvider, headers: Headers, body: Buffer, secret: string): boolean {
  const verdict = signatureHeaders(provider, headers, secret);
  if (!verdict.ok) return false;
  if (verdict.signature === null) return true;
  verdict.signature.update(body);
  return verdict.signature.matches();
}

function badPayload(message: string): NestorError {
  return create('invalid_request').component(COMPONENT).operation('ParseWebhook').message(message).build();
}

/** The JSON payload: a JSON body, or GitHub's form encoding (`payload=<json>`). */
function payloadOf(body: Buffer, contentType: string | null): Record<string, unknown> {
  let text = body.toString('utf8');
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw badPayload('form-encoded webhook without a "payload" field');
    text = payload;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badPayload(`webhook payload is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badPayload('webhook payload must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/**
 * Reads a verified delivery: its event, delivery id and, for pushes, the ref and new head. Throws
 * `invalid_request` when the payload does not decode.
 */
export function parseDelivery(
  provider: WebhookProvider,
  headers: Headers,
  body: Buffer,
  contentType: string | null,
): WebhookDelivery {
  switch (provider) {
    case 'github': {
      const event = header(headers, 'x-github-event') ?? '';
      const deliveryId = header(headers, 'x-github-delivery');
      if (event === 'ping') return { provider, event, kind: 'ping', deliveryId, ref: null, after: null };
      if (event !== 'push') return { provider, event, kind: 'other', deliveryId, ref: null, after: null };
      const p = payloadOf(body, contentType);
      return { provider, event, kind: 'push', deliveryId, ref: str(p.ref), after: str(p.after) };
    }
    case 'gitea': {
      const event = header(headers, 'x-gitea-event') ?? header(headers, 'x-forgejo-event') ?? '';
      const deliveryId = header(headers, 'x-gitea-delivery') ?? header(headers, 'x-forgejo-delivery');
      if (event === 'ping') return { provider, event, kind: 'ping', deliveryId, ref: null, after: null };
      if (event !== 'push') return { provider, event, kind: 'other', deliveryId, ref: null, after: null };
      const p = payloadOf(body, contentType);
      return { provider, event, kind: 'push', deliveryId, ref: str(p.ref), after: str(p.after) };
    }
    case 'gitlab': {
      const event = header(headers, 'x-gitlab-event') ?? '';
      const deliveryId =
        header(headers, 'x-gitlab-event-uuid') ??
        header(headers, 'x-gitlab-webhook-uuid') ??
        header(headers, 'idempotency-key');
      if (event !== 'Push Hook') return { provider, event, kind: 'other', deliveryId, ref: null, after: null };
      const p = payloadOf(body, contentType);
      return {
        provider,
        event,
        kind: 'push',
        deliveryId,
        ref: str(p.ref),
        after: str(p.checkout_sha) ?? str(p.after),
      };
    }
  }
}

export interface DeliveryDeduperOptions {
  /** How long a delivery id is remembered (ms). */
  windowMs?: number;
  /** Most ids remembered; the oldest are forgotten first. */
  max?: number;
  clock?: Clock;
}

/**
 * Remembers recent delivery ids so that a redelivered webhook (providers retry on timeouts, and
 * "redeliver" buttons exist) triggers nothing twice.
 */
export class DeliveryDeduper {
  private readonly seen = new Map<string, number>();
  private readonly windowMs: number;
  private readonly max: number;
  private readonly clock: Clock;

  constructor(opts: DeliveryDeduperOptions = {}) {
    this.windowMs = opts.windowMs ?? 60 * 60 * 1000;
    this.max = opts.max ?? 10_000;
    this.clock = opts.clock ?? systemClock;
  }

  /** Records the id and returns true when it was already seen within the window. */
  check(key: string): boolean {
    const now = this.clock.now().getTime();
    for (const [id, at] of this.seen) {
      if (now - at < this.windowMs && this.seen.size <= this.max) break;
      this.seen.delete(id);
    }
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.windowMs) return true;
    this.seen.delete(key);
    this.seen.set(key, now);
    return false;
  }
}
