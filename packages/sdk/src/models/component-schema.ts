import type { TSchema } from '@sinclair/typebox';
import { ComponentSpecSchema, SERVER_MANAGED_FIELDS } from './component.js';

/** Where the committed schema is published; editors and `$schema` lines may point here. */
export const COMPONENT_SCHEMA_ID = 'https://nestor.dev/schemas/component.schema.json';

/** A JSON Schema document (draft 2020-12), as plain JSON. */
export type JsonSchemaDocument = { [key: string]: unknown };

/**
 * The JSON Schema (draft 2020-12) of a `component.yaml` document, derived from the TypeBox schema
 * that decodes request bodies and source files, so that the editor's verdict and the server's
 * cannot drift apart. Server-managed fields are listed as accepted because the decoder ignores them
 * rather than rejecting them; any other unknown key is rejected by both.
 */
export function componentJsonSchema(): JsonSchemaDocument {
  // JSON round trip drops TypeBox's symbol-keyed metadata and yields a plain, stable document.
  const spec = JSON.parse(JSON.stringify(ComponentSpecSchema as TSchema)) as JsonSchemaDocument & {
    properties: Record<string, JsonSchemaDocument>;
  };
  const ignored: Record<string, JsonSchemaDocument> = {};
  for (const field of SERVER_MANAGED_FIELDS) {
    ignored[field] = { description: 'Managed by the server; ignored when submitted.' };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: COMPONENT_SCHEMA_ID,
    title: 'Nestor component',
    description:
      'One version of an infrastructure component (component.yaml). Rules beyond shape (name and version format, input types, dependencies, engines, version bumps) are checked by `nestor validate`.',
    ...spec,
    properties: { ...describeFields(spec.properties), ...ignored },
  };
}

const FIELD_HELP: Record<string, string> = {
  name: 'Component name: 1-63 characters, lowercase letters, digits and "-", starting and ending with a letter or digit.',
  version: 'Semantic version 2.0.0 without a "v" prefix and without build metadata, e.g. 1.2.0.',
  description: 'What the component provisions.',
  provider: 'Cloud or platform, e.g. aws, gcp, azure, kubernetes. Fixed for ever once published.',
  category: 'Kind of infrastructure, e.g. database, network, cache.',
  resource_type: 'The engine resource it creates, e.g. aws_db_instance. Fixed for ever once published.',
  deployment_engines: 'Registered deployment engines that can deploy it, e.g. terraform, pulumi, crossplane.',
  dependencies: 'Direct dependencies: other components and the semver range each must satisfy.',
  required_inputs: 'Inputs a deployment must provide.',
  optional_inputs: 'Inputs with a default.',
  outputs: 'Values the component exposes after deployment.',
  maturity: 'alpha, beta or stable (default alpha); mutable after publication.',
  support_level: 'community or supported (default community); mutable after publication.',
  resource_limits: 'Rough resource estimates as Kubernetes quantities.',
  git_repository: 'Set by source sync; leave it out of files.',
  git_commit: 'Set by source sync; leave it out of files.',
  git_path: 'Set by source sync; leave it out of files.',
  labels: 'Mutable labels for filtering (key=value).',
  annotations: 'Mutable free-form annotations.',
};

function describeFields(properties: Record<string, JsonSchemaDocument>): Record<string, JsonSchemaDocument> {
  const out: Record<string, JsonSchemaDocument> = {};
  for (const [key, schema] of Object.entries(properties)) {
    const help = FIELD_HELP[key];
    out[key] = help && schema.description === undefined ? { description: help, ...schema } : schema;
  }
  return out;
}
