import { createHash } from 'node:crypto';
import {
  type CatalogEvent,
  type ComponentDefinition,
  type ComponentPatch,
  canonicalJson,
  componentBytes,
  conflict,
  create,
  type EventType,
  invalidRequest,
  isStrictVersion,
  MAX_COMPONENT_BYTES,
  validationFailed,
} from '@nestor/sdk';
import { extended } from '../objects.js';
import { componentDeleted, versionConflict, versionConflictMessage } from './errors.js';
import type { ChangesetItem, ChangesetRecord, ChangesetWrite, LifecycleChange, NewComponent } from './interfaces.js';

/**
 * Pure helpers every store shares, so that the backends cannot disagree on what a write stores,
 * what a patch changes or which event it appends.
 */

/** The stored form of a new version. Built field by field so stray input members are never stored. */
export function newDefinition(component: NewComponent, now: string, revision: number): ComponentDefinition {
  return {
    name: component.name,
    version: component.version,
    description: component.description,
    provider: component.provider,
    category: component.category,
    resource_type: component.resource_type,
    deployment_engines: [...component.deployment_engines],
    dependencies: component.dependencies.map((d) => ({ name: d.name, version_range: d.version_range })),
    required_inputs: component.required_inputs.map((i) => ({ ...i })),
    optional_inputs: component.optional_inputs.map((i) => ({ ...i })),
    outputs: component.outputs.map((o) => ({ ...o })),
    maturity: component.maturity,
    support_level: component.support_level,
    resource_limits: { ...component.resource_limits },
    git_repository: component.git_repository,
    git_commit: component.git_commit,
    git_path: component.git_path,
    labels: { ...component.labels },
    annotations: { ...component.annotations },
    digest: component.digest,
    created_at: now,
    updated_at: now,
    deprecated: null,
    revision,
    revoked: null,
    orphaned: null,
    published_by: component.published_by ?? null,
  };
}

/**
 * A stored version as reads show it: `revoked` and `orphaned` always present (rows written before
 * lifecycle existed lack them), `deleted` only on a deleted version.
 */
export function withLifecycle(c: ComponentDefinition): ComponentDefinition {
  if (c.revoked !== undefined && c.orphaned !== undefined && c.deleted !== null) return c;
  const out: ComponentDefinition = extended(c, { revoked: c.revoked ?? null, orphaned: c.orphaned ?? null });
  if (out.deleted === null) delete out.deleted;
  return out;
}

/**
 * What a create finds when the name and version are stored already: the same content is a no-op
 * (returns true), other content `version_conflict`. A deleted (or purged) version's number is never
 * reusable, whatever the content: `version_conflict` too.
 */
export function isResubmission(component: string, stored: ComponentDefinition, submitted: NewComponent): true {
  if (stored.digest === submitted.digest && !stored.deleted) return true;
  throw versionConflict(component, 'CreateComponent', submitted.name, submitted.version, {
    existing: stored.digest,
    submitted: submitted.digest,
  });
}

/** What a lifecycle change does to a stored version; null when it changes nothing. */
export interface LifecycleResult {
  next: ComponentDefinition;
  changed: string[];
  type: EventType;
}

/**
 * Applies a lifecycle change (DESIGN.md 10.3). A deleted version takes only restore and purge; a
 * purged one takes nothing (`component_deleted`). Purge keeps a tombstone: name, version, digest,
 * kind (provider, category, resource_type) and dates, so the number is never handed out again and
 * the conflict rule still knows what the name denotes.
 */
export function applyLifecycle(
  component: string,
  current: ComponentDefinition,
  change: LifecycleChange,
  now: string,
): LifecycleResult | null {
  const deleted = current.deleted ?? null;
  if (deleted?.purged_at) {
    if (change.kind === 'purge') return null;
    throw componentDeleted(component, 'ChangeLifecycle', current.name, current.version, true);
  }
  if (deleted && change.kind !== 'restore' && change.kind !== 'purge') {
    throw componentDeleted(component, 'ChangeLifecycle', current.name, current.version);
  }
  const next: ComponentDefinition = withLifecycle({ ...current, updated_at: now });
  switch (change.kind) {
    case 'revoke':
      if (current.revoked) return null;
      next.revoked = { reason: change.reason, at: now };
      return { next, changed: ['revoked'], type: 'component.revoked' };
    case 'delete':
      next.deleted = { reason: change.reason, at: now, purged_at: null };
      return { next, changed: ['deleted'], type: 'component.deleted' };
    case 'restore': {
      if (!current.revoked && !deleted) return null;
      const changed = [...(current.revoked ? ['revoked'] : []), ...(deleted ? ['deleted'] : [])];
      next.revoked = null;
      delete next.deleted;
      return { next, changed, type: 'component.restored' };
    }
    case 'purge': {
      if (!deleted) {
        throw create('invalid_request')
          .component(component)
          .operation('ChangeLifecycle')
          .message(`${current.name}@${current.version} is not deleted; only a deleted version is purged`)
          .build();
      }
      const tombstone: ComponentDefinition = {
        ...next,
        description: '',
        deployment_engines: [],
        dependencies: [],
        required_inputs: [],
        optional_inputs: [],
        outputs: [],
        git_repository: null,
        git_commit: null,
        git_path: null,
        labels: {},
        annotations: {},
        deprecated: null,
        orphaned: null,
        deleted: { ...deleted, purged_at: now },
      };
      return { next: tombstone, changed: ['deleted'], type: 'component.purged' };
    }
    case 'orphan':
      if (current.orphaned) return null;
      next.orphaned = { source: change.source, at: now };
      return { next, changed: ['orphaned'], type: 'component.orphaned' };
    case 'unorphan':
      if (!current.orphaned) return null;
      next.orphaned = null;
      return { next, changed: ['orphaned'], type: 'component.updated' };
  }
}

/** What a patch does to a stored version. `changed` is empty when it changes nothing. */
export interface PatchResult {
  next: ComponentDefinition;
  changed: string[];
  type: EventType;
}

/**
 * Applies the mutable fields of a patch. Maps replace the stored map as a whole. Deprecating an
 * already deprecated version with another reason keeps the original `at`: the version has been
 * deprecated since then. Throws `validation_failed` (`component_too_large`) when the labels and
 * annotations would make the version larger than `MAX_COMPONENT_BYTES`.
 */
export function applyPatch(current: ComponentDefinition, patch: ComponentPatch, now: string): PatchResult {
  if (current.deleted) {
    throw componentDeleted(
      'storage',
      'UpdateComponent',
      current.name,
      current.version,
      Boolean(current.deleted.purged_at),
    );
  }
  const next: ComponentDefinition = { ...current };
  const changed: string[] = [];
  if (patch.labels !== undefined && canonicalJson(patch.labels) !== canonicalJson(current.labels)) {
    next.labels = { ...patch.labels };
    changed.push('labels');
  }
  if (patch.annotations !== undefined && canonicalJson(patch.annotations) !== canonicalJson(current.annotations)) {
    next.annotations = { ...patch.annotations };
    changed.push('annotations');
  }
  if (patch.maturity !== undefined && patch.maturity !== current.maturity) {
    next.maturity = patch.maturity;
    changed.push('maturity');
  }
  if (patch.support_level !== undefined && patch.support_level !== current.support_level) {
    next.support_level = patch.support_level;
    changed.push('support_level');
  }
  let deprecating = false;
  if (patch.deprecated === null && current.deprecated !== null) {
    next.deprecated = null;
    changed.push('deprecated');
  } else if (patch.deprecated && patch.deprecated.reason !== current.deprecated?.reason) {
    next.deprecated = { reason: patch.deprecated.reason, at: current.deprecated?.at ?? now };
    changed.push('deprecated');
    deprecating = true;
  }
  if (changed.length > 0) next.updated_at = now;
  const grows = changed.includes('labels') || changed.includes('annotations');
  const bytes = grows ? componentBytes(next) : 0;
  if (bytes > MAX_COMPONENT_BYTES) {
    // The validator's `component_too_large`, for the one write that is not validated: every store
    // refuses it alike, before DynamoDB would find the item too large.
    throw validationFailed('storage', 'UpdateComponent', {
      name: current.name,
      version: current.version,
      errors: [
        {
          rule: 'metadata',
          code: 'component_too_large',
          field: changed.includes('annotations') ? 'annotations' : 'labels',
          message: `the patched component would be ${bytes} bytes as JSON; at most ${MAX_COMPONENT_BYTES} are allowed (labels and annotations included)`,
          details: { bytes, limit: MAX_COMPONENT_BYTES },
        },
      ],
    });
  }
  return { next, changed, type: deprecating ? 'component.deprecated' : 'component.updated' };
}

/** The event of a component write; it carries the whole stored version. */
export function componentEvent(
  id: number,
  type: EventType,
  time: string,
  component: ComponentDefinition,
  changed?: string[],
): CatalogEvent {
  return {
    id,
    type,
    time,
    subject: { name: component.name, version: component.version, digest: component.digest },
    data: changed ? { component, changed } : { component },
  };
}

/**
 * Names a name's set of (version, digest) pairs, whatever order they come in: what the semver and
 * conflict rules read of the name. Equal tags mean the same versions with the same content.
 */
export function versionSetTag(versions: readonly { version: string; digest: string }[]): string {
  // A new name's (the usual create) is asked for by the manager, the validator and the store.
  if (versions.length === 0) return EMPTY_VERSION_SET;
  return tagOf(versions);
}

function tagOf(versions: readonly { version: string; digest: string }[]): string {
  const lines = versions.map((v) => `${v.version} ${v.digest}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 32);
}

const EMPTY_VERSION_SET = tagOf([]);

/** The name's versions changed between the caller's validation and this write. */
export function versionSetChanged(component: string, name: string, version: string) {
  return create('precondition_failed')
    .component(component)
    .operation('CreateComponent')
    .message(`the versions of ${name} changed while ${name}@${version} was being validated`)
    .detail('component_name', name)
    .detail('version', version)
    .build();
}

/** The stored version is not at a revision the caller accepts (a stale `If-Match`). */
export function revisionMismatch(component: string, current: ComponentDefinition) {
  return create('precondition_failed')
    .component(component)
    .operation('UpdateComponent')
    .message(
      `${current.name}@${current.version} changed since it was read (now at revision ${current.revision}); read it again`,
    )
    .detail('component_name', current.name)
    .detail('version', current.version)
    .detail('revision', current.revision)
    .build();
}

/** True when a condition on the revision is set and the stored revision fails it. */
export function failsRevision(current: ComponentDefinition, expected: readonly number[] | undefined): boolean {
  return expected !== undefined && !expected.includes(current.revision);
}

/**
 * `version_conflict` of a changeset member: `details` name it as `{ name, version }` (DESIGN.md
 * 10.10), with `component_name` as every other conflict has it.
 */
export function changesetConflict(
  component: string,
  name: string,
  version: string,
  digests?: { existing: string; submitted: string },
) {
  return conflict(component, 'CreateChangeset', versionConflictMessage(name, version), {
    name,
    version,
    component_name: name,
    ...(digests ? { existing_digest: digests.existing, submitted_digest: digests.submitted } : {}),
  });
}

/**
 * What a changeset does to each member, given the stored versions: `unchanged` when the same
 * content is stored (and not deleted), `created` when nothing is; any other stored version fails
 * the whole set with `version_conflict`. A name+version twice, or a version that is not strict
 * semver, is `invalid_request`: every store refuses them alike before writing anything.
 */
export function changesetStatuses(
  component: string,
  members: readonly NewComponent[],
  stored: (name: string, version: string) => ComponentDefinition | null | undefined,
): ChangesetItem['status'][] {
  const seen = new Set<string>();
  return members.map((m) => {
    const key = `${m.name}@${m.version}`;
    if (seen.has(key)) {
      throw invalidRequest(component, 'CreateChangeset', `${key} appears twice in the changeset`, {
        name: m.name,
        version: m.version,
      });
    }
    seen.add(key);
    if (!isStrictVersion(m.version)) {
      throw invalidRequest(component, 'CreateChangeset', `"${m.version}" is not a strict semver version`, {
        field: 'version',
      });
    }
    const existing = stored(m.name, m.version);
    if (!existing) return 'created';
    if (existing.digest === m.digest && !existing.deleted) return 'unchanged';
    throw changesetConflict(component, m.name, m.version, { existing: existing.digest, submitted: m.digest });
  });
}

/** The event of a changeset member: `component.created` carrying the set's id in `data.changeset`. */
export function changesetEvent(id: number, time: string, stored: ComponentDefinition, changeset: string): CatalogEvent {
  const event = componentEvent(id, 'component.created', time, stored);
  return { ...event, data: { ...event.data, changeset } };
}

/** The record of a written changeset. */
export function changesetRecord(
  write: ChangesetWrite,
  time: string,
  revision: number,
  statuses: readonly ChangesetItem['status'][],
): ChangesetRecord {
  return {
    id: write.id,
    time,
    actor: write.actor,
    message: write.message,
    revision,
    items: write.members.map((m, i) => ({ name: m.name, version: m.version, status: statuses[i] ?? 'created' })),
  };
}

/** The names whose version set a changeset expected and that moved (`precondition_failed`). */
export function changesetSetMoved(
  component: string,
  write: ChangesetWrite,
  current: (name: string) => readonly { version: string; digest: string }[],
): void {
  for (const [name, tag] of Object.entries(write.expectedVersionSets ?? {})) {
    if (versionSetTag(current(name)) !== tag) {
      const member = write.members.find((m) => m.name === name);
      throw versionSetChanged(component, name, member?.version ?? '');
    }
  }
}
