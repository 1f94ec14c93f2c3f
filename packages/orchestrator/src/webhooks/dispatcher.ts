import type { CatalogEvent } from '@nestor/sdk';
import { Webhook } from 'standardwebhooks';
import type { ChangeFeed } from '../events/interfaces.js';
import { LogFollower } from '../events/log-follower.js';
import { type EventFilter, matchesFilter } from '../events/sse/events.js';
import type { EndpointPolicy } from '../infra/endpoint-policy.js';
import type { Clock } from '../observability/clock.js';
import type { Logger } from '../observability/logging/logger.js';
import type { Metrics } from '../observability/metrics/interfaces.js';
import type {
  AuditEntry,
  DeliveryRecord,
  EventLog,
  StoredSubscription,
  SubscriptionStore,
} from '../storage/interfaces.js';
import type { RetryTimer, WebhookResponse, WebhookSender } from './interfaces.js';

/** What delivery needs of the store: subscriptions, the log, and the event that tells of a disable. */
type DeliveryStore = SubscriptionStore & Pick<EventLog, 'readEvents' | 'headSequence' | 'appendEvent'>;

/** Standing leadership (a store lease): only its holder delivers. */
interface Leadership {
  isLeader(): Promise<boolean>;
  release(): Promise<void>;
}

export interface DispatcherOptions {
  store: DeliveryStore;
  feed: ChangeFeed;
  leadership: Leadership;
  /** Judges and resolves each receiver's host again before every attempt. */
  policy: Pick<EndpointPolicy, 'resolve'>;
  send: WebhookSender;
  timer: RetryTimer;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** The audit entry of a disable (made by the system, not a request). */
  auditEntry: (subscriptionId: string, details: Record<string, unknown>) => AuditEntry;
  /** How long an event is retried before the subscription is disabled (24 h). */
  retryForMs: number;
  /** Bound on one attempt (10 s). */
  timeoutMs: number;
  /** How often leadership and the set of subscriptions are looked at (5 s). */
  refreshMs?: number;
  /** First retry delay before jitter (5 s); it doubles up to `maxRetryMs` (10 min). */
  firstRetryMs?: number;
  maxRetryMs?: number;
  /** Records kept in each delivery log (1 000). */
  keepDeliveries?: number;
  /** The answer's bytes read at most (4 KiB). */
  maxResponseBytes?: number;
  /** [0, 1) for the jitter; Math.random by default. */
  random?: () => number;
}

/**
 * Delivers the event log to webhook subscriptions (DESIGN.md 10.6). The replica holding the
 * `webhooks` lease runs one worker per active subscription; each follows the durable log from the
 * subscription's persisted position with the shared LogFollower, so delivery is in sequence order,
 * at least once, and resumes after a restart or a change of leader.
 */
export class WebhookDispatcher {
  private readonly opts: DispatcherOptions;
  private readonly workers = new Map<string, SubscriptionWorker>();
  /** Workers being stopped: a subscription gets no new worker until its old one has let go. */
  private readonly stopping = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  /** The newest head seen (the feed's announcements and each refresh), for the lag gauge. */
  private head = 0;
  private unsubscribe: (() => void) | null = null;
  private again = false;
  private closed = false;

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.unsubscribe = this.opts.feed.subscribe((head) => {
      this.head = Math.max(this.head, head);
      for (const [id, worker] of this.workers) this.lag(id, worker.delivered);
    });
    this.nudge();
    this.timer = setInterval(() => this.nudge(), this.opts.refreshMs ?? 5_000);
    this.timer.unref();
  }

  /** Looks at leadership and subscriptions now (after a create or delete); failures are logged. */
  nudge(): void {
    this.refresh().catch((err: unknown) => this.opts.logger.warn({ err }, 'webhook dispatcher refresh failed'));
  }

  /** Starts workers for new active subscriptions and stops those of deleted or disabled ones. */
  async refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        await this.reconcile();
      } while (this.again && !this.closed);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.refreshing?.catch(() => {});
    for (const id of [...this.workers.keys()]) this.retire(id);
    await Promise.all(this.stopping.values());
    await this.opts.leadership.release();
  }

  private async reconcile(): Promise<void> {
    if (this.closed) return;
    if (!(await this.opts.leadership.isLeader())) {
      for (const id of [...this.workers.keys()]) this.retire(id);
      return;
    }
    const active = (await this.opts.store.listSubscriptions()).filter((s) => s.state === 'active');
    const head = await this.opts.store.headSequence();
    this.head = Math.max(this.head, head);
    const wanted = new Set(active.map((s) => s.id));
    for (const id of [...this.workers.keys()]) if (!wanted.has(id)) this.retire(id);
    for (const s of active) {
      this.lag(s.id, s.position);
      if (this.workers.has(s.id) || this.stopping.has(s.id) || this.closed) continue;
      const worker = new SubscriptionWorker(s, this.opts, {
        lag: (position) => this.lag(s.id, position),
        done: () => this.retire(s.id),
      });
      this.workers.set(s.id, worker);
      worker.start(head);
    }
  }

  private retire(id: string): void {
    const worker = this.workers.get(id);
    if (!worker) return;
    this.workers.delete(id);
    const stopped = worker.stop().finally(() => this.stopping.delete(id));
    this.stopping.set(id, stopped);
  }

  /** Head sequence minus the subscription's delivered position. */
  private lag(id: string, position: number): void {
    this.opts.metrics
      .gauge('nestor_webhook_lag', 'Log head minus the delivered position, by subscription', ['subscription'])
      .set({ subscription: id }, Math.max(0, this.head - position));
  }
}

/** What a worker tells its dispatcher. */
interface WorkerHooks {
  lag(position: number): void;
  /** The worker gave up for good (its subscription was disabled or deleted). */
  done(): void;
}

/** Delivers to one subscription, one event at a time, in order. */
class SubscriptionWorker {
  private readonly sub: StoredSubscription;
  private readonly opts: DispatcherOptions;
  private readonly hooks: WorkerHooks;
  private readonly filter: EventFilter;
  private readonly signer: Webhook;
  private readonly follower: LogFollower;
  private readonly controller = new AbortController();
  private working: Promise<void> = Promise.resolve();
  /** Every event up to this sequence was delivered or skipped (as persisted). */
  delivered: number;

  constructor(sub: StoredSubscription, opts: DispatcherOptions, hooks: WorkerHooks) {
    this.sub = sub;
    this.opts = opts;
    this.hooks = hooks;
    this.delivered = sub.position;
    this.filter = {
      types: sub.types.length > 0 ? new Set(sub.types as CatalogEvent['type'][]) : undefined,
      names: sub.filter.name !== null ? new Set([sub.filter.name]) : undefined,
      providers: sub.filter.provider !== null ? new Set([sub.filter.provider]) : undefined,
      categories: sub.filter.category !== null ? new Set([sub.filter.category]) : undefined,
    };
    this.signer = new Webhook(sub.secret);
    this.follower = new LogFollower({
      log: opts.store,
      consumer: {
        onEvents: (events) => this.onEvents(events),
        onReset: (head) => this.onGap(head),
      },
      logger: opts.logger,
      position: sub.position,
      // An unreadable log is waited out: the position is persisted, nothing is gained by skipping.
      onReadFailure: 'retry',
    });
  }

  start(head: number): void {
    this.follower.follow(this.opts.feed);
    this.follower.catchUp(head).catch((err: unknown) => {
      this.opts.logger.warn({ err, subscription: this.sub.id }, 'webhook delivery could not read the log; retrying');
    });
  }

  /** Stops at the next step; resolves once no attempt of this worker is in flight. */
  async stop(): Promise<void> {
    this.controller.abort();
    this.follower.stop();
    await this.working;
  }

  private get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  private onEvents(events: readonly CatalogEvent[]): Promise<void> {
    const run = this.deliverAll(events);
    this.working = run.catch(() => {});
    return run;
  }

  private async deliverAll(events: readonly CatalogEvent[]): Promise<void> {
    let position = -1;
    for (const event of events) {
      if (this.stopped) return;
      if (matchesFilter(this.filter, event) && !(await this.deliver(event))) return;
      position = event.id;
    }
    if (position >= 0 && !this.stopped) {
      await this.persist(() => this.opts.store.advanceSubscription(this.sub.id, position));
      this.progress(position);
    }
  }

  /** The log was compacted past the position: those events cannot be delivered any more. */
  private async onGap(head: number): Promise<void> {
    if (this.stopped) throw new Error('stopped');
    this.opts.logger.warn(
      { subscription: this.sub.id, from: this.follower.position(), to: head },
      'events were compacted before they could be delivered; the subscription skips them',
    );
    await this.persist(() => this.opts.store.advanceSubscription(this.sub.id, head));
    this.progress(head);
  }

  private progress(position: number): void {
    this.delivered = Math.max(this.delivered, position);
    this.hooks.lag(this.delivered);
  }

  /** Delivers one event, retrying until it is delivered (true), or the worker stops or gives up (false). */
  private async deliver(event: CatalogEvent): Promise<boolean> {
    const body = JSON.stringify(event);
    const firstAt = this.opts.clock.now().getTime();
    const deliveries = this.opts.metrics.counter(
      'nestor_webhook_deliveries_total',
      'Webhook delivery attempts by outcome (delivered, retried, failed: given up)',
      ['outcome'],
    );
    const failures = this.opts.metrics.counter(
      'nestor_webhook_delivery_failures_total',
      'Failed webhook delivery attempts by reason',
      ['reason'],
    );
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) return false;
      if (!(await this.opts.leadership.isLeader())) {
        this.hooks.done();
        return false;
      }
      const now = this.opts.clock.now();
      const answer = await this.attempt(event, body, now);
      if (this.stopped) return false;
      const record = (status: DeliveryRecord['status']): DeliveryRecord => ({
        event_id: event.id,
        attempt,
        status,
        response_status: answer.status,
        time: this.opts.clock.now().toISOString(),
      });
      if (answer.status !== null && answer.status >= 200 && answer.status < 300) {
        deliveries.inc({ outcome: 'delivered' });
        await this.persist(() => this.record(record('delivered')));
        await this.persist(() => this.opts.store.advanceSubscription(this.sub.id, event.id));
        this.progress(event.id);
        return true;
      }
      failures.inc({ reason: answer.reason });
      const elapsed = this.opts.clock.now().getTime() - firstAt;
      if (elapsed >= this.opts.retryForMs) {
        deliveries.inc({ outcome: 'failed' });
        await this.persist(() => this.record(record('failed')));
        await this.disable(event, answer);
        return false;
      }
      deliveries.inc({ outcome: 'retried' });
      await this.persist(() => this.record(record('pending')));
      await this.opts.timer.sleep(this.backoff(attempt), this.controller.signal);
    }
  }

  /** The delay before retry `attempt` + 1: 5 s doubling up to 10 min, each drawn from its upper half. */
  private backoff(attempt: number): number {
    const first = this.opts.firstRetryMs ?? 5_000;
    const max = this.opts.maxRetryMs ?? 600_000;
    const base = Math.min(max, first * 2 ** Math.min(attempt - 1, 30));
    return Math.round(base / 2 + (this.opts.random ?? Math.random)() * (base / 2));
  }

  private async attempt(event: CatalogEvent, body: string, now: Date): Promise<WebhookResponse & { reason: string }> {
    let resolved: Awaited<ReturnType<EndpointPolicy['resolve']>>;
    try {
      resolved = await this.opts.policy.resolve(this.sub.url);
    } catch {
      return { status: null, error: 'connection', reason: 'dns' };
    }
    if (resolved.refusal !== null) {
      this.opts.logger.warn({ subscription: this.sub.id, reason: resolved.refusal }, 'webhook receiver refused');
      return { status: null, error: 'connection', reason: 'address_refused' };
    }
    const id = String(event.id);
    const answer = await this.opts.send({
      url: this.sub.url,
      address: resolved.addresses[0] as { address: string; family: number },
      headers: {
        'content-type': 'application/json',
        'user-agent': 'nestor-orchestrator-webhooks',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': this.signer.sign(id, now, body),
      },
      body,
      timeoutMs: this.opts.timeoutMs,
      maxResponseBytes: this.opts.maxResponseBytes ?? 4_096,
    });
    const reason =
      answer.status === null
        ? (answer.error ?? 'connection')
        : answer.status >= 300 && answer.status < 400
          ? 'redirect'
          : 'status';
    return { ...answer, reason };
  }

  private async disable(event: CatalogEvent, answer: WebhookResponse): Promise<void> {
    const hours = Math.round(this.opts.retryForMs / 3_600_000);
    const last = answer.status === null ? (answer.error ?? 'no answer') : `HTTP ${answer.status}`;
    const reason = `event ${event.id} could not be delivered for ${hours} h (last attempt: ${last})`;
    const details = { reason, event_id: event.id };
    const disabled = await this.persist(() =>
      this.opts.store.disableSubscription(this.sub.id, reason, this.opts.auditEntry(this.sub.id, details)),
    );
    if (disabled) {
      this.opts.logger.warn({ subscription: this.sub.id, reason }, 'webhook subscription disabled');
      await this.persist(() =>
        this.opts.store.appendEvent({
          type: 'subscription.disabled',
          subject: { name: this.sub.id, version: null, digest: null },
          data: { subscription: this.sub.id, reason, event_id: event.id },
        }),
      );
    }
    this.hooks.done();
  }

  private record(record: DeliveryRecord): Promise<void> {
    return this.opts.store.recordDelivery(this.sub.id, record, this.opts.keepDeliveries ?? 1_000);
  }

  /** A store write retried (every 5 s) until it succeeds or the worker stops; at-least-once needs it. */
  private async persist<T>(write: () => Promise<T>): Promise<T | undefined> {
    for (;;) {
      try {
        return await write();
      } catch (err) {
        if (this.stopped) return undefined;
        this.opts.logger.warn(
          { err, subscription: this.sub.id },
          'webhook delivery state could not be stored; retrying',
        );
        await this.opts.timer.sleep(5_000, this.controller.signal);
        if (this.stopped) return undefined;
      }
    }
  }
}
