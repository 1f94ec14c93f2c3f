import { type ComponentDefinition, compareVersions, isPrerelease } from '@nestor/sdk';
import { pickLatest, takesLatest } from '../latest-rule.js';
import { withLifecycle } from '../records.js';
import {
  componentPk,
  DELETED_PK,
  deletedSk,
  dependentSk,
  dependentsPk,
  HEAD_SK,
  NAMES_GSI_PK,
  versionSk,
} from './table.js';
import type { Item } from './transactions.js';

/** How versions, dependency edges and each name's head are stored as items. */

/** The head item of a name: copies of the two picks of `getLatestComponent`. */
export interface Head {
  latest: ComponentDefinition;
  highest: ComponentDefinition;
}

/** The head after adding `added`, or null when neither pick changes. */
export function headAfterAdding(head: Head | null, added: ComponentDefinition): Head | null {
  const takes = (holder: ComponentDefinition | undefined, includePrerelease: boolean) =>
    takesLatest(
      added,
      holder && { prerelease: isPrerelease(holder.version) },
      holder !== undefined && compareVersions(added.version, holder.version) > 0,
      includePrerelease,
    );
  const latest = takes(head?.latest, false) ? added : head?.latest;
  const highest = takes(head?.highest, true) ? added : head?.highest;
  if (!latest || !highest) return null;
  if (head && highest === head.highest && latest === head.latest) return null;
  return { latest, highest };
}

/** The head of versions sorted semver-descending, by the one latest rule; null when none is eligible. */
export function headOf(descending: readonly ComponentDefinition[]): Head | null {
  const latest = pickLatest(descending, false);
  const highest = pickLatest(descending, true);
  return latest && highest ? { latest, highest } : null;
}

/** The purge's index item of a deleted, not yet purged version; null for any other. */
export function deletedItem(c: ComponentDefinition): Item | null {
  if (!c.deleted || c.deleted.purged_at) return null;
  return {
    PK: DELETED_PK,
    SK: deletedSk(c.deleted.at, c.name, c.version),
    name: c.name,
    version: c.version,
    at: c.deleted.at,
  };
}

export function versionItem(c: ComponentDefinition): Item {
  return { PK: componentPk(c.name), SK: versionSk(c.version), version: c.version, doc: JSON.stringify(c) };
}

/** One item per dependency edge, under the dependency's name, so `getDependents` is one Query. */
export function dependentItems(c: ComponentDefinition): Item[] {
  return c.dependencies.map((d, i) => ({
    PK: dependentsPk(d.name),
    SK: dependentSk(c.name, c.version, i),
    name: c.name,
    version: c.version,
    version_range: d.version_range,
  }));
}

export function headItem(head: Head): Item {
  const name = head.latest.name;
  return {
    PK: componentPk(name),
    SK: HEAD_SK,
    name,
    latest: JSON.stringify(head.latest),
    highest: JSON.stringify(head.highest),
    GSI1PK: NAMES_GSI_PK,
    GSI1SK: name,
  };
}

export function parseDoc(item: Item): ComponentDefinition {
  return withLifecycle(JSON.parse(String(item['doc'])) as ComponentDefinition);
}

export function parseHead(item: Item): Head {
  return {
    latest: withLifecycle(JSON.parse(String(item['latest'])) as ComponentDefinition),
    highest: withLifecycle(JSON.parse(String(item['highest'])) as ComponentDefinition),
  };
}
