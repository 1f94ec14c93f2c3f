import { type Static, Type } from '@sinclair/typebox';
import { canonicalJson } from './canonical-json.js';

/** Lifecycle stage of a component version. Mutable after publication. */
export const MaturitySchema = Type.Union([Type.Literal('alpha'), Type.Literal('beta'), Type.Literal('stable')]);
export type Maturity = Static<typeof MaturitySchema>;
export const MATURITIES: readonly Maturity[] = ['alpha', 'beta', 'stable'];

/** Who answers for a component version. Mutable after publication. */
export const SupportLevelSchema = Type.Union([Type.Literal('community'), Type.Literal('supported')]);
export type SupportLevel = Static<typeof SupportLevelSchema>;
export const SUPPORT_LEVELS: readonly SupportLevel[] = ['community', 'supported'];

const strict = { additionalProperties: false } as const;

/**
 * Length caps on submitted text, checked when a body or file is decoded (400 `invalid_request`
 * naming the field, like any other shape error; docs/validation.md). They bound what one anonymous
 * `POST /v1/validate` can make the server hold, index and compare, and sit far above real use.
 */
export const TEXT_LIMITS = {
  /** Names, types, providers, categories, engine names, version ranges, resource quantities. */
  identifier: 256,
  /** A component's description. */
  description: 8192,
  /** An input's or output's description. */
  fieldDescription: 2048,
  /** Git repository URL, commit and path. */
  reference: 2048,
  /** `deprecated.reason`. */
  reason: 1024,
} as const;
const identifier = () => Type.String({ maxLength: TEXT_LIMITS.identifier });
const fieldDescription = () => Type.Optional(Type.String({ maxLength: TEXT_LIMITS.fieldDescription }));
const reference = () => Type.Optional(Type.String({ maxLength: TEXT_LIMITS.reference }));

/**
 * One input of a component. `type` is checked by the interface rule (422), not by decoding (400),
 * so that an unknown type is reported with the other rule errors.
 */
export const InputSpecSchema = Type.Object(
  {
    name: identifier(),
    type: identifier(),
    description: fieldDescription(),
    default: Type.Optional(Type.Unknown()),
    enum: Type.Optional(Type.Array(Type.Unknown())),
    sensitive: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type InputSpec = Static<typeof InputSpecSchema>;

export const OutputSpecSchema = Type.Object(
  {
    name: identifier(),
    type: identifier(),
    description: fieldDescription(),
    sensitive: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type OutputSpec = Static<typeof OutputSpecSchema>;

/** A direct dependency: another component's name and a semver range it must satisfy. */
export const DependencySchema = Type.Object({ name: identifier(), version_range: identifier() }, strict);
export type Dependency = Static<typeof DependencySchema>;

/** Rough resource estimates, as Kubernetes quantities (`500m`, `2Gi`). */
export const ResourceLimitsSchema = Type.Object(
  { cpu: Type.Optional(identifier()), memory: Type.Optional(identifier()) },
  strict,
);
export type ResourceLimits = Static<typeof ResourceLimitsSchema>;

/** Label and annotation keys: `team`, `nestor.dev/intended-engines` (letters, digits, `._/-`, ≤ 253). */
export const METADATA_KEY_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$';
/** Most labels or annotations on one version. */
export const MAX_METADATA_ENTRIES = 64;

const metadataMap = (maxValueLength: number, what: string) =>
  Type.Record(Type.String({ pattern: METADATA_KEY_PATTERN }), Type.String({ maxLength: maxValueLength }), {
    additionalProperties: false,
    maxProperties: MAX_METADATA_ENTRIES,
    description: `${what}: at most ${MAX_METADATA_ENTRIES} entries; keys letters, digits and ._/- (≤ 253); values ≤ ${maxValueLength} characters`,
  });
const Labels = metadataMap(256, 'Labels');
const Annotations = metadataMap(4096, 'Annotations');

/**
 * What a client submits (HTTP body, YAML file): the guide's ComponentMetadata. Server-managed fields
 * (digest, created_at, updated_at, deprecated, revision) are not part of it; the decoder drops them.
 */
export const ComponentSpecSchema = Type.Object(
  {
    name: identifier(),
    version: identifier(),
    description: Type.Optional(Type.String({ maxLength: TEXT_LIMITS.description })),
    provider: identifier(),
    category: identifier(),
    resource_type: identifier(),
    deployment_engines: Type.Optional(Type.Array(identifier())),
    dependencies: Type.Optional(Type.Array(DependencySchema)),
    required_inputs: Type.Optional(Type.Array(InputSpecSchema)),
    optional_inputs: Type.Optional(Type.Array(InputSpecSchema)),
    outputs: Type.Optional(Type.Array(OutputSpecSchema)),
    maturity: Type.Optional(MaturitySchema),
    support_level: Type.Optional(SupportLevelSchema),
    resource_limits: Type.Optional(ResourceLimitsSchema),
    git_repository: reference(),
    git_commit: reference(),
    git_path: reference(),
    labels: Type.Optional(Labels),
    annotations: Type.Optional(Annotations),
  },
  strict,
);
/** A component as submitted, before defaults are filled in. */
export type ComponentSpecInput = Static<typeof ComponentSpecSchema>;

/** A submitted component with every default filled in: the input of validation and of writes. */
export interface ComponentSpec {
  name: string;
  version: string;
  description: string;
  provider: string;
  category: string;
  resource_type: string;
  deployment_engines: string[];
  dependencies: Dependency[];
  required_inputs: InputSpec[];
  optional_inputs: InputSpec[];
  outputs: OutputSpec[];
  maturity: Maturity;
  support_level: SupportLevel;
  resource_limits: ResourceLimits;
  git_repository: string | null;
  git_commit: string | null;
  git_path: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Deprecation marker of a version: why, and since when. */
export interface Deprecation {
  reason: string;
  at: string;
}

/** Revocation of a version (DESIGN.md 10.3): latest, resolve, list and search skip it. */
export interface Revocation {
  reason: string;
  at: string;
}

/** A version whose file left its git or directory source (the version itself stays). */
export interface Orphaning {
  source: string;
  at: string;
}

/**
 * Soft deletion of a version: reads answer 410 `component_deleted`, the number stays taken. After
 * `lifecycle.purge_after` the content is purged (`purged_at`) and only a tombstone remains.
 */
export interface Deletion {
  reason: string | null;
  at: string;
  purged_at: string | null;
}

/** A stored component version: the spec plus the fields the server manages. */
export interface ComponentDefinition extends ComponentSpec {
  /** `sha256:<hex>` of the canonical JSON of the content fields (see `CONTENT_FIELDS`). */
  digest: string;
  created_at: string;
  updated_at: string;
  deprecated: Deprecation | null;
  /** Sequence of the event that last changed this version. */
  revision: number;
  /** Set while the version is revoked; null (or absent in rows written before lifecycle) otherwise. */
  revoked?: Revocation | null;
  /** Set while the version's file is missing from the source that published it. */
  orphaned?: Orphaning | null;
  /** Present only on a deleted version (stores and events; reads of it answer 410). */
  deleted?: Deletion | null;
  /**
   * Who published it: `token:<name>` (over the API) or `source:<name>` (a git or directory sync);
   * null when unknown (a write made in process, e.g. by a test or `nestor import` of older data).
   * Absent on versions stored before this field existed.
   */
  published_by?: string | null;
}

/** A search hit: a component and its relevance (higher is better). */
export interface ScoredComponent extends ComponentDefinition {
  score: number;
}

/** Fields that may change on a published version (PATCH body). */
export const ComponentPatchSchema = Type.Object(
  {
    labels: Type.Optional(Labels),
    annotations: Type.Optional(Annotations),
    maturity: Type.Optional(MaturitySchema),
    support_level: Type.Optional(SupportLevelSchema),
    deprecated: Type.Optional(
      Type.Union([
        Type.Object({ reason: Type.String({ minLength: 1, maxLength: TEXT_LIMITS.reason }) }, strict),
        Type.Null(),
      ]),
    ),
  },
  strict,
);
export type ComponentPatch = Static<typeof ComponentPatchSchema>;

/** Fields covered by the digest: everything that is immutable once a version is published. */
export const CONTENT_FIELDS = [
  'name',
  'version',
  'description',
  'provider',
  'category',
  'resource_type',
  'deployment_engines',
  'dependencies',
  'required_inputs',
  'optional_inputs',
  'outputs',
  'resource_limits',
] as const satisfies readonly (keyof ComponentSpec)[];

/** Every field of a spec: what a client submits and what `componentBytes` measures. */
const SPEC_FIELDS = [
  ...CONTENT_FIELDS,
  'maturity',
  'support_level',
  'git_repository',
  'git_commit',
  'git_path',
  'labels',
  'annotations',
] as const satisfies readonly (keyof ComponentSpec)[];

/**
 * Largest a version may be, in UTF-8 bytes of the canonical JSON of its spec fields (server-managed
 * fields add a few hundred bytes). A model rule on every store: DynamoDB holds a version in a
 * 400 KB item and the latest and highest versions together in another, so 128 KiB leaves room.
 */
export const MAX_COMPONENT_BYTES = 128 * 1024;

/**
 * Most direct dependencies of one version. A model rule on every store: DynamoDB writes a version
 * in one transaction of at most 100 items (the counter, the event, the version, its head and one
 * edge per dependency: n + 4), and 90 leaves room for what later writes add.
 */
export const MAX_DEPENDENCIES = 90;

const utf8 = new TextEncoder();

/** The size `MAX_COMPONENT_BYTES` limits, of a spec or a stored definition (its spec fields only). */
export function componentBytes(component: ComponentSpec): number {
  const fields: Record<string, unknown> = {};
  for (const field of SPEC_FIELDS) fields[field] = component[field];
  return utf8.encode(canonicalJson(fields)).length;
}

/** Fields a client may never set; they are dropped from submitted bodies and files. */
export const SERVER_MANAGED_FIELDS = [
  'digest',
  'created_at',
  'updated_at',
  'deprecated',
  'revision',
  'published_by',
] as const;

/** Fills in defaults so that omitted and empty fields produce the same digest. */
export function normalizeSpec(input: ComponentSpecInput): ComponentSpec {
  return {
    name: input.name,
    version: input.version,
    description: input.description ?? '',
    provider: input.provider,
    category: input.category,
    resource_type: input.resource_type,
    deployment_engines: [...(input.deployment_engines ?? [])],
    dependencies: (input.dependencies ?? []).map((d) => ({ name: d.name, version_range: d.version_range })),
    required_inputs: (input.required_inputs ?? []).map((i) => ({ ...i })),
    optional_inputs: (input.optional_inputs ?? []).map((i) => ({ ...i })),
    outputs: (input.outputs ?? []).map((o) => ({ ...o })),
    maturity: input.maturity ?? 'alpha',
    support_level: input.support_level ?? 'community',
    resource_limits: { ...(input.resource_limits ?? {}) },
    git_repository: input.git_repository ?? null,
    git_commit: input.git_commit ?? null,
    git_path: input.git_path ?? null,
    labels: { ...(input.labels ?? {}) },
    annotations: { ...(input.annotations ?? {}) },
  };
}

/** Pulls the digest-covered fields out of a spec or a stored definition. */
export function contentOf(spec: ComponentSpec): Pick<ComponentSpec, (typeof CONTENT_FIELDS)[number]> {
  const out: Record<string, unknown> = {};
  for (const field of CONTENT_FIELDS) out[field] = spec[field];
  return out as Pick<ComponentSpec, (typeof CONTENT_FIELDS)[number]>;
}
