import { type ComponentSpec, create } from '@nestor/sdk';
import { namesAllow } from '../../tokens/service.js';
import type { Principal } from './auth.js';

/** The audit and `published_by` name of a caller: `token:<name>`, or `anonymous`. */
export function actorOf(principal: Principal | null): string {
  return principal ? `token:${principal.name}` : 'anonymous';
}

/**
 * Refuses (403 `forbidden`, naming the patterns) a write to a component name outside the token's
 * `names` patterns. A token without patterns may write any name.
 */
export function checkOwnership(principal: Principal | null, name: string, operation: string): void {
  if (!principal || namesAllow(principal.names, name)) return;
  throw create('forbidden')
    .component('auth')
    .operation(operation)
    .message(`token "${principal.name}" may only write components named ${principal.names.join(', ')}; not "${name}"`)
    .detail('names', [...principal.names])
    .detail('component_name', name)
    .build();
}

const PROVENANCE_FIELDS = ['git_repository', 'git_commit', 'git_path'] as const;

/**
 * Refuses (403 `forbidden`) `git_*` provenance fields from a token with neither `admin` nor
 * `provenance`: they claim where a version came from, which only a sync or a trusted publisher
 * may state.
 */
export function checkProvenance(principal: Principal | null, spec: ComponentSpec, operation: string): void {
  const set = PROVENANCE_FIELDS.filter((f) => spec[f] !== null);
  if (set.length === 0 || !principal) return;
  if (principal.scopes.includes('admin') || principal.scopes.includes('provenance')) return;
  throw create('forbidden')
    .component('auth')
    .operation(operation)
    .message(`token "${principal.name}" may not set ${set.join(', ')}: that needs the "provenance" or "admin" scope`)
    .detail('required_scope', 'provenance')
    .detail('fields', set)
    .build();
}
