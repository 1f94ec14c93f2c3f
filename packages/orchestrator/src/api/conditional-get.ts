/**
 * The conditional GET of RFC 9110 §13.1.2 as the catalog answers it, shared by the handlers and
 * the response cache so that a hit and a fresh read can never disagree about a 304: true when
 * `If-None-Match` names `etag` or is `*`.
 */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  return ifNoneMatch?.split(',').some((t) => t.trim() === etag || t.trim() === '*') ?? false;
}
