import type { ComponentDefinition } from '@nestor/sdk';

/**
 * The strong ETag of a version read. It changes whenever the representation does: content (the
 * digest) or any mutable field (every change moves the revision).
 */
export function versionEtag(c: Pick<ComponentDefinition, 'digest' | 'revision'>): string {
  return `"${digestPart(c.digest)}.${c.revision}"`;
}

/** A version as a client last read it, taken from one entity tag of `If-Match`. */
export interface VersionTag {
  /** The digest as the tag carries it. */
  digest: string;
  revision: number;
}

const TAG = /^"([0-9a-f]{32})\.(\d{1,15})"$/;

/**
 * The entity tags of an `If-Match` header: `'*'` (any current version), or the tags that name a
 * version. Weak tags never match (RFC 9110 §13.1.1 compares strongly) and tags of another shape
 * cannot name a version; both are dropped, so a header of only those matches nothing.
 */
export function parseIfMatch(header: string): '*' | VersionTag[] {
  const tags = header
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  if (tags.includes('*')) return '*';
  const out: VersionTag[] = [];
  for (const tag of tags) {
    const m = TAG.exec(tag);
    if (m) out.push({ digest: m[1] as string, revision: Number(m[2]) });
  }
  return out;
}

/** True when the tag was made from a version with this digest. */
export function tagMatchesDigest(tag: VersionTag, digest: string): boolean {
  return tag.digest === digestPart(digest);
}

const digestPart = (digest: string): string => digest.slice(7, 39);
