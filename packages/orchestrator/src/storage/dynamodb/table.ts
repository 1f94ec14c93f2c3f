import { versionSortKey } from '@nestor/sdk';

/**
 * The single-table design (docs/storage-dynamodb.md). Every item has a partition key `PK` and a
 * sort key `SK`; one sparse global secondary index lists the names. Only the head items (one per
 * component name) carry its attributes, so it holds one entry per name. Tables created before the
 * store kept no search (decision 24) also have `gsi2-provider` and `gsi3-category`: nothing writes
 * or reads them any more, and an operator may delete them.
 */
export const INDEX_NAMES = 'gsi1-names';

/** Partition of every component name's items: its versions and its head (latest pointers). */
export const componentPk = (name: string): string => `C#${name}`;
/** Sort key of a version item: the SDK's byte-sortable version key, so `latest` is one Query. */
export const versionSk = (version: string): string => `V#${versionSortKey(version)}`;
export const VERSION_PREFIX = 'V#';
/** Sort key of the head item (latest and latest-stable copies). Sorts below every `V#` key. */
export const HEAD_SK = 'HEAD';

/** Dependency edges live under the target's name so that `dependents` is one Query. */
export const dependentsPk = (target: string): string => `D#${target}`;
/** `#` sorts below every name character, so edges order by name, then version. */
export const dependentSk = (name: string, version: string, index: number): string =>
  `${name}#${versionSortKey(version)}#${index}`;

export const EVENTS_PK = 'EV';
const SEQ_WIDTH = 16;
/** Zero-padded sequence, so string order is numeric order. */
export const eventSk = (seq: number): string => String(seq).padStart(SEQ_WIDTH, '0');

/** The atomic event counter every write advances conditionally. */
export const META_PK = 'META';
export const COUNTER_SK = 'SEQ';

export const ENGINES_PK = 'ENGINE';
export const STATE_PK = 'STATE';
export const LEASES_PK = 'LEASE';
/** Deleted, not yet purged versions: one item each, sorted by deletion time, so the purge is one Query. */
export const DELETED_PK = 'DELETED';
/** Changeset records: one item each, keyed by the changeset's id. */
export const CHANGESETS_PK = 'CHANGESET';
export const deletedSk = (at: string, name: string, version: string): string => `${at}#${name}#${version}`;

/** Value of `GSI1PK` on every head item: one partition listing every name in order. */
export const NAMES_GSI_PK = 'NAMES';

/** The CreateTable input (also used by `migrate` to check an existing table's indexes). */
export function tableDefinition(table: string) {
  const gsi = (name: string, pk: string, sk: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: pk, KeyType: 'HASH' as const },
      { AttributeName: sk, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: ['PK', 'SK', 'GSI1PK', 'GSI1SK'].map((a) => ({
      AttributeName: a,
      AttributeType: 'S' as const,
    })),
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' as const },
      { AttributeName: 'SK', KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [gsi(INDEX_NAMES, 'GSI1PK', 'GSI1SK')],
  };
}
