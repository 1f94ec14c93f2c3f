import type { RuleOutcome, StateContext, StateRule } from '../interfaces.js';
import { Findings, LIMITS, preview } from './common.js';

export interface EnginesRuleOptions {
  /** `error` (default) rejects a component naming an unhealthy engine; `warn` only warns. */
  unhealthyEngine: 'error' | 'warn';
}

/**
 * Every deployment engine must be registered; an unhealthy (or no longer discovered) one is an
 * error or a warning as configured; one never probed (`unknown`) is accepted with a warning.
 */
export function enginesRule(opts: EnginesRuleOptions): StateRule {
  return {
    name: 'engines',
    kind: 'state',
    async check({ spec, catalog }: StateContext): Promise<RuleOutcome> {
      const f = new Findings('engines');
      const engines = spec.deployment_engines;
      if (engines.length === 0) {
        f.warn('no_deployment_engine', 'deployment_engines', 'the component names no deployment engine');
        return f.outcome();
      }
      if (engines.length > LIMITS.engines) {
        f.error(
          'too_many_engines',
          'deployment_engines',
          `${engines.length} deployment engines; at most ${LIMITS.engines} are allowed`,
        );
        return f.outcome();
      }
      const unhealthy = opts.unhealthyEngine === 'warn' ? f.warn.bind(f) : f.error.bind(f);
      const seen = new Set<string>();
      for (const [i, name] of engines.entries()) {
        const field = `deployment_engines[${i}]`;
        if (seen.has(name)) {
          f.error('duplicate_engine', field, `deployment engine ${preview(name)} is listed twice`);
          continue;
        }
        seen.add(name);
        const engine = await catalog.engine(name);
        if (!engine) {
          f.error('engine_not_found', field, `deployment engine ${JSON.stringify(preview(name))} is not registered`, {
            engine: preview(name),
          });
        } else if (engine.missing) {
          unhealthy('engine_missing', field, `deployment engine ${name} is no longer found by discovery`, {
            engine: name,
          });
        } else if (engine.health === 'unhealthy') {
          unhealthy('engine_unhealthy', field, `deployment engine ${name} is unhealthy`, {
            engine: name,
            message: engine.message,
            last_checked: engine.last_checked,
          });
        } else if (engine.health === 'unknown') {
          f.warn(
            'engine_health_unknown',
            field,
            `deployment engine ${name} has not been probed; its health is unknown`,
            {
              engine: name,
            },
          );
        }
      }
      return f.outcome();
    },
  };
}
