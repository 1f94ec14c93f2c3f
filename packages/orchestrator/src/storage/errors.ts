import { conflict, create, notFound } from '@nestor/sdk';

/**
 * The errors that name a missing or conflicting catalog entry, built once so that every store (and
 * the catalog above them) words them alike. `component` and `operation` say where they arose.
 */

/** The message of `version_conflict`; the validation rule of the same code reuses it. */
export function versionConflictMessage(name: string, version: string): string {
  return `${name}@${version} is already published with other content; publish a new version instead`;
}

/**
 * `version_conflict`: the name and version are already stored. `digests` (when the caller knows
 * them) are the stored and the submitted digest.
 */
export function versionConflict(
  component: string,
  operation: string,
  name: string,
  version: string,
  digests?: { existing: string; submitted: string },
) {
  return conflict(component, operation, versionConflictMessage(name, version), {
    component_name: name,
    version,
    ...(digests ? { existing_digest: digests.existing, submitted_digest: digests.submitted } : {}),
  });
}

/** `component_not_found`: no such name, or (with `version`) no such version of it. */
export function componentNotFound(component: string, operation: string, name: string, version?: string) {
  const subject = version === undefined ? name : `${name}@${version}`;
  return notFound('component_not_found', component, operation, `component ${subject} not found`, {
    component_name: name,
    ...(version === undefined ? {} : { version }),
  });
}

/** `engine_not_found`: no engine is registered under the name. */
export function engineNotFound(component: string, operation: string, name: string) {
  return notFound('engine_not_found', component, operation, `no engine named "${name}"`, { name });
}

/**
 * `component_deleted` (410): the version was deleted (or purged). Its number stays taken; a
 * not-yet-purged deletion can be restored.
 */
export function componentDeleted(component: string, operation: string, name: string, version: string, purged = false) {
  return create('component_deleted')
    .component(component)
    .operation(operation)
    .message(
      purged
        ? `${name}@${version} was deleted and purged; its version number cannot be published again`
        : `${name}@${version} is deleted; restore it (admin) or publish another version`,
    )
    .detail('component_name', name)
    .detail('version', version)
    .detail('purged', purged)
    .build();
}

/** `token_conflict`: a stored token already has the name. */
export function tokenConflict(component: string, operation: string, name: string) {
  return conflict(
    component,
    operation,
    `a token named "${name}" exists; revoke it or choose another name`,
    { name },
    'token_conflict',
  );
}

/** `token_not_found`: no stored token has the id. */
export function tokenNotFound(component: string, operation: string, id: string) {
  return notFound('token_not_found', component, operation, `no stored token with id "${id}"`, { id });
}

/** `subscription_not_found`: no webhook subscription has the id. */
export function subscriptionNotFound(component: string, operation: string, id: string) {
  return notFound('subscription_not_found', component, operation, `no webhook subscription with id "${id}"`, { id });
}
