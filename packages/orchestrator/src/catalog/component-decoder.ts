import {
  type ComponentSpec,
  ComponentSpecSchema,
  invalidRequest,
  normalizeSpec,
  SERVER_MANAGED_FIELDS,
} from '@nestor/sdk';
import { decode, findUnstorable } from './decode.js';

/**
 * Decodes a submitted component (HTTP body or YAML document) into a normalised spec. Server-managed
 * fields are ignored; anything else unknown, or of the wrong JSON type, is `invalid_request`.
 */
export function decodeComponent(
  value: unknown,
  where: { component: string; operation: string; what?: string },
): ComponentSpec {
  // YAML sources reach here without the HTTP body decoder's checks (`.inf`, "\ud800").
  const unstorable = findUnstorable(value);
  if (unstorable) {
    throw invalidRequest(
      where.component,
      where.operation,
      `invalid field "${unstorable.field}" in ${where.what ?? 'request body'}: ${unstorable.reason}`,
      { field: unstorable.field, reason: unstorable.reason },
    );
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const field of SERVER_MANAGED_FIELDS) delete copy[field];
    return normalizeSpec(decode(ComponentSpecSchema, copy, where));
  }
  return normalizeSpec(decode(ComponentSpecSchema, value, where));
}
