import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { type ComponentSpec, contentOf } from './component.js';

/** `sha256:<hex>` over the canonical JSON of the spec's content fields. */
export function computeDigest(spec: ComponentSpec): string {
  return `sha256:${createHash('sha256')
    .update(canonicalJson(contentOf(spec)))
    .digest('hex')}`;
}
