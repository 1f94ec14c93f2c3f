import type { StoredToken } from './interfaces.js';

/** A `tokens` row: lists are JSON text. */
export interface TokenRow {
  id: string;
  name: string;
  sha256: string;
  scopes: string;
  names: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export function tokenRow(t: StoredToken): TokenRow {
  return { ...t, scopes: JSON.stringify(t.scopes), names: JSON.stringify(t.names) };
}

export function fromTokenRow(r: TokenRow): StoredToken {
  return {
    id: r.id,
    name: r.name,
    sha256: r.sha256,
    scopes: JSON.parse(r.scopes) as StoredToken['scopes'],
    names: JSON.parse(r.names) as string[],
    created_at: r.created_at,
    expires_at: r.expires_at,
    last_used_at: r.last_used_at,
  };
}
