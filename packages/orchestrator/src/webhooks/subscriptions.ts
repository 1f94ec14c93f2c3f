import { randomBytes } from 'node:crypto';
import {
  type CreatedSubscription,
  type DeliveryInfo,
  type EventType,
  invalidRequest,
  isEventType,
  type SubscriptionInfo,
} from '@nestor/sdk';
import type { EndpointPolicy } from '../infra/endpoint-policy.js';
import type { Clock } from '../observability/clock.js';
import { subscriptionNotFound } from '../storage/errors.js';
import type {
  AuditEntry,
  EventLog,
  StoredSubscription,
  SubscriptionFilter,
  SubscriptionStore,
} from '../storage/interfaces.js';

const COMPONENT = 'webhooks';
const MAX_URL_LENGTH = 2_048;
const MAX_FILTER_LENGTH = 256;
const FILTER_KEYS = ['name', 'provider', 'category'] as const;

/** A decoded `POST /v1/subscriptions` body. */
export interface SubscriptionRequestInput {
  url: string;
  types: EventType[];
  filter: SubscriptionFilter;
}

/**
 * Decodes a `POST /v1/subscriptions` body: every field checked, unknown fields refused, each
 * failure a 400 `invalid_request` naming the field. The URL's host is judged later (`create`).
 */
export function decodeSubscriptionRequest(body: unknown): SubscriptionRequestInput {
  const bad = (field: string, message: string) =>
    invalidRequest(COMPONENT, 'CreateSubscription', `${field}: ${message}`, { field });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest(COMPONENT, 'CreateSubscription', 'the body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!['url', 'types', 'filter'].includes(key)) throw bad(key, 'unknown field');
  }
  const url = b['url'];
  if (typeof url !== 'string' || url.length === 0 || url.length > MAX_URL_LENGTH) {
    throw bad('url', `must be an http or https URL of at most ${MAX_URL_LENGTH} characters`);
  }
  const refusal = urlShapeRefusal(url);
  if (refusal) throw bad('url', refusal);
  const types = b['types'] ?? [];
  if (!Array.isArray(types)) throw bad('types', 'must be an array of event types');
  for (const [i, t] of types.entries()) {
    if (!isEventType(t)) throw bad(`types[${i}]`, `unknown event type ${JSON.stringify(t).slice(0, 80)}`);
  }
  if (new Set(types).size !== types.length) throw bad('types', 'must not repeat a type');
  const filter: SubscriptionFilter = { name: null, provider: null, category: null };
  const f = b['filter'];
  if (f !== undefined && f !== null) {
    if (typeof f !== 'object' || Array.isArray(f)) throw bad('filter', 'must be an object');
    for (const [key, value] of Object.entries(f)) {
      if (!(FILTER_KEYS as readonly string[]).includes(key)) throw bad(`filter.${key}`, 'unknown field');
      if (value === null) continue;
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FILTER_LENGTH) {
        throw bad(`filter.${key}`, `must be a string of 1-${MAX_FILTER_LENGTH} characters or null`);
      }
      filter[key as (typeof FILTER_KEYS)[number]] = value;
    }
  }
  return { url, types: types as EventType[], filter };
}

/** What the text of a URL alone rules out before its host is judged: scheme, credentials, fragment, spaces. */
function urlShapeRefusal(url: string): string | null {
  const control = [...url].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
  if (control || /\s/.test(url)) return 'must not contain spaces or control characters';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be http or https';
  // A fragment is never sent; accepting one would store a URL other than the one called.
  if (url.includes('#')) return 'must not carry a fragment (#...)';
  return null;
}

export interface SubscriptionServiceOptions {
  store: SubscriptionStore & Pick<EventLog, 'headSequence'>;
  /** `webhooks.allow_hosts` and the SSRF rules (DESIGN.md 10.6). */
  policy: EndpointPolicy;
  clock: Clock;
  /** Called after a subscription is created or deleted, so delivery starts or stops at once. */
  onChange?: () => void;
}

/** Creating, listing and deleting webhook subscriptions (`/v1/subscriptions`). */
export class SubscriptionService {
  private readonly opts: SubscriptionServiceOptions;

  constructor(opts: SubscriptionServiceOptions) {
    this.opts = opts;
  }

  /**
   * Creates a subscription that receives events appended from now on; the answer is the only
   * place its secret appears. A URL whose host is (or resolves to) an internal address is refused
   * with `invalid_request` naming why, and nothing is stored.
   */
  async create(input: SubscriptionRequestInput, audit?: (id: string) => AuditEntry): Promise<CreatedSubscription> {
    const refusal = await this.opts.policy.check(input.url);
    if (refusal) {
      throw invalidRequest(COMPONENT, 'CreateSubscription', `url: ${refusal}`, { field: 'url', reason: refusal });
    }
    const id = randomBytes(8).toString('hex');
    const stored: StoredSubscription = {
      id,
      url: input.url,
      types: input.types,
      filter: input.filter,
      secret: `whsec_${randomBytes(32).toString('base64')}`,
      created_at: this.opts.clock.now().toISOString(),
      state: 'active',
      disabled_reason: null,
      position: await this.opts.store.headSequence(),
    };
    await this.opts.store.createSubscription(stored, audit?.(id));
    this.opts.onChange?.();
    return { ...subscriptionInfo(stored), secret: stored.secret };
  }

  async list(): Promise<SubscriptionInfo[]> {
    return (await this.opts.store.listSubscriptions()).map(subscriptionInfo);
  }

  /** Throws `subscription_not_found`. */
  async get(id: string): Promise<SubscriptionInfo> {
    const s = await this.opts.store.getSubscription(id);
    if (!s) throw subscriptionNotFound(COMPONENT, 'GetSubscription', id);
    return subscriptionInfo(s);
  }

  /** Deletes the subscription and its delivery log. Throws `subscription_not_found`. */
  async delete(id: string, audit?: AuditEntry): Promise<void> {
    if (!(await this.opts.store.deleteSubscription(id, audit))) {
      throw subscriptionNotFound(COMPONENT, 'DeleteSubscription', id);
    }
    this.opts.onChange?.();
  }

  /** The delivery log, newest event first. Throws `subscription_not_found`. */
  async deliveries(id: string, limit: number): Promise<DeliveryInfo[]> {
    if (!(await this.opts.store.getSubscription(id))) throw subscriptionNotFound(COMPONENT, 'ListDeliveries', id);
    return this.opts.store.listDeliveries(id, limit);
  }
}

function subscriptionInfo(s: StoredSubscription): SubscriptionInfo {
  return {
    id: s.id,
    url: s.url,
    types: s.types as EventType[],
    filter: s.filter,
    created_at: s.created_at,
    state: s.state,
    disabled_reason: s.disabled_reason,
  };
}
