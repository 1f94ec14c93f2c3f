import { create } from '@nestor/sdk';

/** What a token may do: read the catalog, write it, or administer the service. */
export type Scope = 'read' | 'write' | 'admin';

/**
 * Parses `NESTOR_API_TOKENS="<token>:<scope>[+<scope>],..."`. Throws `invalid_request` naming the
 * bad entry; tokens themselves never appear in messages.
 */
export function parseTokenList(value: string): { token: string; scopes: Scope[] }[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, index) => {
      const colon = entry.lastIndexOf(':');
      const token = colon > 0 ? entry.slice(0, colon) : '';
      const scopes = colon > 0 ? entry.slice(colon + 1).split('+') : [];
      if (!token || scopes.length === 0 || !scopes.every(isScope)) {
        throw create('invalid_request')
          .component('auth')
          .operation('ParseTokens')
          .message(
            `NESTOR_API_TOKENS entry ${index + 1} must look like <token>:<scope>[+<scope>] with scopes read, write, admin`,
          )
          .build();
      }
      return { token, scopes: scopes as Scope[] };
    });
}

function isScope(s: string): s is Scope {
  return s === 'read' || s === 'write' || s === 'admin';
}
