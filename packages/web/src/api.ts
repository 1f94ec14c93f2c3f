import { type CatalogEvent, CatalogStream, NestorClient, NestorError, type StreamFilter } from '@nestor/sdk/browser';

/** The token lives for the tab's session only (design 10.8: `anonymous_read: false` asks for one). */
const TOKEN_KEY = 'nestor.token';

export function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || undefined;
  } catch {
    return undefined;
  }
}

export function storeToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage refused (private mode quotas): the token then lasts until the page reloads.
  }
  client = null;
  for (const l of authListeners) l(false);
}

let client: NestorClient | null = null;

/** The one client of the page; every request to the server goes through the SDK. */
export function api(): NestorClient {
  client ??= new NestorClient({ baseUrl: location.origin, token: storedToken(), timeoutMs: 15_000 });
  return client;
}

const authListeners = new Set<(needed: boolean) => void>();

/** Called with true when the server refused the page for lack of a (valid) token. */
export function onAuthNeeded(listener: (needed: boolean) => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

/** Reports an error of any call: a 401 asks the person for a token. */
export function noteError(err: unknown): void {
  if (!NestorError.is(err) || err.code !== 'unauthorized') return;
  for (const l of authListeners) l(true);
}

export interface FollowOptions {
  /** Start after this revision (the `X-Catalog-Revision` of what the page shows). */
  since?: number | undefined;
  filter?: StreamFilter;
  signal: AbortSignal;
  onEvent: (event: CatalogEvent) => void;
  /** The server's log no longer reaches back to `since`: reload instead of patching. */
  onReset?: () => void;
}

/** Follows the event stream until `signal` aborts; reconnects by itself (the SDK's CatalogStream). */
export function follow(opts: FollowOptions): void {
  const stream = new CatalogStream({
    baseUrl: location.origin,
    token: storedToken(),
    ...(opts.since !== undefined ? { since: opts.since } : {}),
    ...(opts.filter ? { filter: opts.filter } : {}),
    signal: opts.signal,
    backoff: { initialMs: 500, maxMs: 15_000 },
  });
  stream
    .run({
      onEvent: opts.onEvent,
      onReset: () => opts.onReset?.(),
    })
    .catch((err: unknown) => {
      if (!opts.signal.aborted) noteError(err);
    });
}

/** What to tell a person about a failed call, without stack traces or codes they cannot act on. */
export function describeError(err: unknown): string {
  if (NestorError.is(err)) {
    switch (err.code) {
      case 'unauthorized':
        return 'The server needs an API token with read access.';
      case 'forbidden':
        return 'This token may not read the catalog.';
      case 'service_unavailable':
      case 'timeout':
        return 'The server could not be reached. Check your connection and try again.';
      case 'too_many_requests':
      case 'rate_limited':
        return 'Too many requests right now; wait a moment and try again.';
      case 'component_not_found':
      case 'no_matching_version':
        return err.message;
      case 'invalid_request':
      case 'invalid_range':
        return `The server did not accept the request: ${err.message}`;
      default:
        return `The server answered with an error (${err.code}). Try again in a moment.`;
    }
  }
  return 'Something went wrong while talking to the server. Try again.';
}
