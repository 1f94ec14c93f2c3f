import { create } from '@nestor/sdk';

/**
 * Opaque page cursors shared by the store implementations. A list cursor remembers the last name
 * served (keyset pagination, so writes between pages never repeat or skip a name); a search cursor
 * remembers an offset into the ranking. The kind is part of the cursor so that one cannot be
 * replayed against the other.
 */
type CursorState = { k: 'list'; after: string } | { k: 'search'; offset: number };

const PREFIX = 'n1.';

function encode(state: CursorState): string {
  return PREFIX + Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

function invalidCursor(operation: string, cursor: string): Error {
  return create('invalid_cursor')
    .component('storage')
    .operation(operation)
    .message('the cursor is malformed or belongs to another query; start again without a cursor')
    .detail('cursor', cursor.length > 100 ? `${cursor.slice(0, 100)}…` : cursor)
    .build();
}

function decode(cursor: string, operation: string): CursorState {
  if (!cursor.startsWith(PREFIX) || cursor.length > 1000) throw invalidCursor(operation, cursor);
  const body = cursor.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) throw invalidCursor(operation, cursor);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor(operation, cursor);
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalidCursor(operation, cursor);
  const state = parsed as Record<string, unknown>;
  if (state.k === 'list' && typeof state.after === 'string' && state.after.length > 0) {
    return { k: 'list', after: state.after };
  }
  if (state.k === 'search' && Number.isSafeInteger(state.offset) && (state.offset as number) > 0) {
    return { k: 'search', offset: state.offset as number };
  }
  throw invalidCursor(operation, cursor);
}

/** Cursor of the list page that follows `lastName`. */
export function listCursor(lastName: string): string {
  return encode({ k: 'list', after: lastName });
}

/** The name a list page starts after ('' for the first page); throws `invalid_cursor`. */
export function decodeListCursor(cursor: string | null | undefined): string {
  if (cursor === null || cursor === undefined || cursor === '') return '';
  const state = decode(cursor, 'ListComponents');
  if (state.k !== 'list') throw invalidCursor('ListComponents', cursor);
  return state.after;
}

/**
 * Search cursors made, by offset: pages start at a few multiples of a few limits, and encoding one
 * (JSON, then base64url) was a microsecond of every search page that has a next page.
 */
const searchCursors = new Map<number, string>();
const KEPT_SEARCH_CURSORS = 1_024;

/** Cursor of the search page that starts at `offset`. */
export function searchCursor(offset: number): string {
  let cursor = searchCursors.get(offset);
  if (cursor === undefined) {
    cursor = encode({ k: 'search', offset });
    if (searchCursors.size < KEPT_SEARCH_CURSORS) searchCursors.set(offset, cursor);
  }
  return cursor;
}

/** The ranking offset a search page starts at (0 for the first page); throws `invalid_cursor`. */
export function decodeSearchCursor(cursor: string | null | undefined): number {
  if (cursor === null || cursor === undefined || cursor === '') return 0;
  const state = decode(cursor, 'SearchComponents');
  if (state.k !== 'search') throw invalidCursor('SearchComponents', cursor);
  return state.offset;
}
