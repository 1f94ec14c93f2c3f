import { randomUUID } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { create } from '@nestor/sdk';
import { Redis } from 'ioredis';
import type { Logger } from '../observability/logging/logger.js';
import { silentLogger } from '../observability/logging/logger.js';

export interface RedisLinkOptions {
  url: string;
  /** Prepended to every key and channel, so several deployments (or test runs) share one Redis. */
  prefix: string;
  logger?: Logger;
  /** A command that takes longer fails (and the caller falls back to the store). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** AUTH password when the URL carries none (a password in the URL wins). Never logged. */
  password?: string;
  /** PEM CA certificates trusted for `rediss://` besides the system ones. */
  tlsCa?: string;
}

type State = 'connecting' | 'up' | 'down';

/** A slow Redis fails every publish; one warning per interval says so without flooding the log. */
const SLOW_WARNING_EVERY_MS = 10_000;

/**
 * The two connections a replica keeps to Redis: one for commands, one subscribed to channels.
 * Redis is optional infrastructure: when it is down, commands fail fast (no offline queue, short
 * timeouts), callers fall back to the store, the state change is logged once, and ioredis keeps
 * reconnecting in the background, resubscribing by itself.
 */
export class RedisLink {
  readonly prefix: string;
  /** Identifies this process in published messages, so it can skip its own. */
  readonly origin = randomUUID();
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly logger: Logger;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();
  private state: State = 'connecting';
  private closed = false;
  private lastSlowWarning = Number.NEGATIVE_INFINITY;
  private slowSinceWarning = 0;

  constructor(opts: RedisLinkOptions) {
    this.prefix = opts.prefix;
    this.logger = opts.logger ?? silentLogger;
    const common = {
      connectTimeout: opts.connectTimeoutMs ?? 1000,
      maxRetriesPerRequest: 1,
      // Reconnect forever with a capped delay: Redis coming back must heal the replica by itself.
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      lazyConnect: false,
      ...(opts.tlsCa && opts.url.startsWith('rediss://') ? { tls: { ca: [...rootCertificates, opts.tlsCa] } } : {}),
    };
    const url = withPassword(opts.url, opts.password);
    this.commands = new Redis(url, {
      ...common,
      enableOfflineQueue: false,
      commandTimeout: opts.commandTimeoutMs ?? 250,
    });
    // The subscriber queues its SUBSCRIBE until connected; ioredis resubscribes after reconnects.
    this.subscriber = new Redis(url, { ...common, enableOfflineQueue: true });
    this.commands.on('ready', () => this.setState('up'));
    this.commands.on('error', (err: Error) => this.setState('down', err));
    this.commands.on('close', () => this.setState('down'));
    this.subscriber.on('error', () => {
      // Reported through the command connection's state; without a listener ioredis would log.
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) {
        try {
          handler(message);
        } catch (err) {
          this.logger.warn({ err: loggable(err), channel }, 'redis message handler failed');
        }
      }
    });
  }

  /** True while the command connection is ready. */
  get available(): boolean {
    return this.state === 'up';
  }

  /** The command connection, for callers that check `available` and catch failures themselves. */
  get client(): Redis {
    return this.commands;
  }

  key(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** Publishes on `prefix + channel`; false when Redis did not take it (down or slow). */
  async publish(channel: string, message: string): Promise<boolean> {
    if (!this.available) return false;
    try {
      await this.commands.publish(this.key(channel), message);
      return true;
    } catch (err) {
      // A command that timed out on a connection that stays open (Redis busy, a long pause) is
      // not an outage: no 'ready' event would ever follow to bring the link back up.
      if (this.commands.status !== 'ready') this.setState('down', err);
      else this.warnSlow(err);
      return false;
    }
  }

  /** Calls `handler` for every message on `prefix + channel`; returns the unsubscribe function. */
  subscribe(channel: string, handler: (message: string) => void): () => void {
    const full = this.key(channel);
    let set = this.handlers.get(full);
    if (!set) {
      set = new Set();
      this.handlers.set(full, set);
      this.subscriber.subscribe(full).catch((err: unknown) => {
        this.logger.warn({ err: loggable(err), channel: full }, 'redis subscribe failed; it is retried on reconnect');
      });
    }
    set.add(handler);
    return () => {
      const current = this.handlers.get(full);
      current?.delete(handler);
      if (current && current.size === 0) {
        this.handlers.delete(full);
        if (!this.closed) this.subscriber.unsubscribe(full).catch(() => undefined);
      }
    };
  }

  /** Readiness: throws `service_unavailable` when Redis does not answer a PING. */
  async check(): Promise<void> {
    try {
      if (!this.available) throw new Error(`redis is ${this.state}`);
      await this.commands.ping();
    } catch (err) {
      throw create('service_unavailable')
        .component('redis')
        .operation('Ping')
        .message(`redis unavailable (serving from the store): ${(err as Error).message}`)
        .cause(loggable(err))
        .build();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.commands.disconnect();
    this.subscriber.disconnect();
  }

  private warnSlow(err: unknown): void {
    const now = Date.now();
    if (now - this.lastSlowWarning < SLOW_WARNING_EVERY_MS) {
      this.slowSinceWarning++;
      return;
    }
    this.logger.warn(
      { err: loggable(err), alsoSince: this.slowSinceWarning },
      'redis publish failed on an open connection; other replicas catch up by polling the log head',
    );
    this.lastSlowWarning = now;
    this.slowSinceWarning = 0;
  }

  private setState(next: State, err?: unknown): void {
    if (this.closed || next === this.state) return;
    const previous = this.state;
    this.state = next;
    if (next === 'down') {
      this.logger.warn(
        { err: loggable(err), previous },
        'redis unavailable: serving from the store without the shared cache',
      );
    } else if (previous === 'down') {
      this.logger.info('redis available again: shared cache and cross-replica wake-ups restored');
    }
  }
}

/**
 * The URL with `password` filled in when it names none. ioredis lets a URL's (even empty) password
 * win over the option, so `rediss://user@host` plus a password from the environment would
 * otherwise authenticate with an empty one.
 */
function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const parsed = new URL(url);
  if (parsed.password) return url;
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/**
 * An error from ioredis without what it carries of the failed command: a refused AUTH holds the
 * password in `command.args`, and a logged error must never show it.
 */
function loggable(err: unknown): Error | undefined {
  if (err === undefined) return undefined;
  if (!(err instanceof Error)) return new Error(String(err));
  const safe = new Error(err.message);
  safe.name = err.name;
  safe.stack = err.stack;
  const { code } = err as NodeJS.ErrnoException;
  const command = (err as { command?: { name?: unknown } }).command;
  return Object.assign(safe, code ? { code } : {}, typeof command?.name === 'string' ? { command: command.name } : {});
}
