import { componentBytes, MAX_COMPONENT_BYTES } from '@nestor/sdk';
import type { ContentContext, ContentRule, RuleOutcome, StateContext, StateRule } from '../interfaces.js';
import { Findings, LIMITS, nameProblem } from './common.js';

// Control characters make log lines and UIs lie about what a value is.
const hasControl = (value: string): boolean => {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
};

/**
 * The component's identity and classification: a DNS-label name, a bounded description, and a
 * non-empty provider, category and resource_type.
 */
export const metadataRule: ContentRule = {
  name: 'metadata',
  kind: 'content',
  check({ content }: ContentContext): RuleOutcome {
    const f = new Findings('metadata');
    const problem = nameProblem(content.name);
    if (problem) f.error(problem.code, 'name', problem.message);
    if (content.description.length > LIMITS.descriptionLength) {
      f.error(
        'description_too_long',
        'description',
        `description has ${content.description.length} characters; at most ${LIMITS.descriptionLength} are allowed`,
      );
    }
    for (const field of ['provider', 'category', 'resource_type'] as const) {
      const value = content[field];
      if (value.trim().length === 0) {
        f.error('missing_field', field, `${field} must not be empty`);
      } else if (value.length > LIMITS.fieldLength) {
        f.error('field_too_long', field, `${field} has ${value.length} characters; at most ${LIMITS.fieldLength}`);
      } else if (hasControl(value)) {
        f.error('invalid_field_value', field, `${field} contains control characters`);
      }
    }
    return f.outcome();
  },
};

/**
 * The whole version within `MAX_COMPONENT_BYTES`. It is a state rule although it reads no catalog:
 * labels and annotations count, and content rules see (and are cached by) the content fields only.
 */
export const componentSizeRule: StateRule = {
  name: 'metadata',
  kind: 'state',
  async check({ spec }: StateContext): Promise<RuleOutcome> {
    const f = new Findings('metadata');
    const problem = sizeProblem(componentBytes(spec));
    if (problem) f.error('component_too_large', '', problem.message, problem.details);
    return f.outcome();
  },
};

function sizeProblem(bytes: number): { message: string; details: { bytes: number; limit: number } } | null {
  if (bytes <= MAX_COMPONENT_BYTES) return null;
  return {
    message: `the component is ${bytes} bytes as JSON; at most ${MAX_COMPONENT_BYTES} are allowed (labels and annotations included)`,
    details: { bytes, limit: MAX_COMPONENT_BYTES },
  };
}
