/** One POST of an event to a receiver, sent to an address that was checked before (never re-resolved). */
export interface WebhookRequest {
  url: string;
  /** The address to connect to: the policy's answer for the URL's host. */
  address: { address: string; family: number };
  headers: Record<string, string>;
  body: string;
  /** Bound on the whole exchange, connection to the last byte read. */
  timeoutMs: number;
  /** At most this much of the answer is read; then the connection is dropped. */
  maxResponseBytes: number;
}

/** How an attempt ended: the receiver's status, or why none came. */
export interface WebhookResponse {
  /** Null when no answer came. */
  status: number | null;
  /** `timeout` or `connection` when no status came; null otherwise. */
  error: 'timeout' | 'connection' | null;
}

/** Sends one delivery; never throws (a failure is an answer without a status). */
export type WebhookSender = (request: WebhookRequest) => Promise<WebhookResponse>;

/** Waiting between retries; tests move a fake clock instead of waiting. */
export interface RetryTimer {
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}
