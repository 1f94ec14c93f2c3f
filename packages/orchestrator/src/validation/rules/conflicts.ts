import { versionConflictMessage } from '../../storage/errors.js';
import type { RuleOutcome, StateContext, StateRule } from '../interfaces.js';
import { Findings, nameProblem } from './common.js';

/**
 * Clashes with what the catalog already holds: the same name+version with other content (versions
 * are immutable), a new name confusable with an existing one, and a provider or resource_type that
 * differs from the name's earlier versions (a name denotes one kind of resource for ever).
 */
export const conflictsRule: StateRule = {
  name: 'conflicts',
  kind: 'state',
  async check({ spec, digest, catalog }: StateContext): Promise<RuleOutcome> {
    const f = new Findings('conflicts');
    if (nameProblem(spec.name)) return f.outcome();
    const versions = await catalog.versions(spec.name);
    if (versions.length === 0) {
      const similar = await catalog.similarNames(spec.name);
      if (similar.length > 0) {
        f.error(
          'similar_name',
          'name',
          `name ${spec.name} differs from existing ${similar.join(', ')} only by case or punctuation; publish under the existing name or pick a distinct one`,
          { existing: similar },
        );
      }
      return f.outcome();
    }
    const same = versions.find((v) => v.version === spec.version);
    if (same && same.digest !== digest) {
      f.error('version_conflict', 'version', versionConflictMessage(spec.name, spec.version), {
        existing_digest: same.digest,
        submitted_digest: digest,
      });
    }
    const others = versions.filter((v) => v.version !== spec.version);
    for (const field of ['provider', 'resource_type'] as const) {
      const differing = others.filter((v) => v[field] !== spec[field]);
      const first = differing[0];
      if (first) {
        f.error(
          `${field}_changed`,
          field,
          `${spec.name} is a ${field} ${JSON.stringify(first[field])} component (e.g. ${first.version}); it cannot become ${JSON.stringify(spec[field])}`,
          { existing: first[field], submitted: spec[field], versions: differing.slice(0, 10).map((v) => v.version) },
        );
      }
    }
    return f.outcome();
  },
};
