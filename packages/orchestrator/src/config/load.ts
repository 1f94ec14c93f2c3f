import { parseTokenList } from './api-tokens.js';
import { wrap } from './check.js';
import { type Config, defaultConfig } from './config.js';
import { readConfigFile } from './config-file.js';
import { decodeConfig } from './decode.js';

export { decodeConfig } from './decode.js';
export { defaultEngineConfig } from './engine-config.js';

/** Command-line flags that override everything else. */
export interface ConfigFlags {
  config?: string | undefined;
  host?: string | undefined;
  port?: number | string | undefined;
  store?: string | undefined;
  dataDir?: string | undefined;
  examples?: boolean | undefined;
  logLevel?: string | undefined;
}

/**
 * Builds the configuration: defaults < YAML file < `NESTOR_*` environment < flags. Every problem is
 * an `invalid_request` error naming the key (`server.port`, `sources[1].url`, `NESTOR_SERVER_PORT`).
 */
export function loadConfig(flags: ConfigFlags, env: Record<string, string | undefined>): Config {
  let raw: Record<string, unknown> = {};
  if (flags.config) raw = readConfigFile(flags.config);
  applyEnv(raw, env);
  applyFlags(raw, flags);
  const config = decodeConfig(raw);
  if (env.NESTOR_API_TOKENS) {
    const parsed = wrap('NESTOR_API_TOKENS', () => parseTokenList(env.NESTOR_API_TOKENS ?? ''));
    for (const [i, t] of parsed.entries()) {
      config.auth.tokens.push({ name: `env-${i + 1}`, token: t.token, sha256: null, scopes: t.scopes });
    }
  }
  return config;
}

// `engine_allow_hosts` is written `engines.allow_hosts`, never as a section of its own.
const SECTIONS = new Set(Object.keys(defaultConfig()).filter((k) => k !== 'engine_allow_hosts'));

/** `NESTOR_SERVER_PORT=9090` → `server.port`; list sections take JSON (`NESTOR_SOURCES='[...]'`). */
function applyEnv(raw: Record<string, unknown>, env: Record<string, string | undefined>): void {
  const defaults = defaultConfig() as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('NESTOR_') || value === undefined) continue;
    const rest = key.slice('NESTOR_'.length).toLowerCase();
    if (rest === 'api_tokens' || rest.startsWith('build_')) continue;
    const section = [...SECTIONS].find((s) => rest === s || rest.startsWith(`${s}_`));
    if (!section) continue;
    const def = defaults[section];
    if (rest === section) {
      // A setting of its own (`NESTOR_DATA_DIR=/srv/nestor`) is taken as written; a section or a
      // list as JSON (`NESTOR_SOURCES='[...]'`).
      raw[section] = typeof def === 'string' ? value : wrap(key, () => JSON.parse(value));
      continue;
    }
    const field = rest.slice(section.length + 1);
    if (section === 'engines' && field === 'allow_hosts') {
      // `engines` is a list, so its one setting lives in the mapping form: `{ allow_hosts, items }`.
      const current = raw.engines;
      raw.engines = Array.isArray(current) ? { items: current } : (current ?? {});
      (raw.engines as Record<string, unknown>).allow_hosts = value.split(',').map((h) => h.trim());
      continue;
    }
    if (section === 'webhooks' && field === 'allow_hosts') {
      raw.webhooks ??= {};
      (raw.webhooks as Record<string, unknown>).allow_hosts = value.split(',').map((h) => h.trim());
      continue;
    }
    if (typeof def !== 'object' || def === null || Array.isArray(def)) continue;
    raw[section] ??= {};
    const target = raw[section] as Record<string, unknown>;
    target[field] = envValue(value);
  }
}

function envValue(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value === 'null' || value === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

function applyFlags(raw: Record<string, unknown>, flags: ConfigFlags): void {
  const section = (name: string) => {
    raw[name] ??= {};
    return raw[name] as Record<string, unknown>;
  };
  if (flags.host !== undefined) section('server').host = flags.host;
  if (flags.port !== undefined)
    // Only plain digits become a number: Number('') is 0 and Number('1e3') is 1000.
    section('server').port =
      typeof flags.port === 'string' && /^\d{1,6}$/.test(flags.port) ? Number(flags.port) : flags.port;
  if (flags.store !== undefined) section('store').type = flags.store;
  if (flags.dataDir !== undefined) raw.data_dir = flags.dataDir;
  if (flags.examples === false) section('examples').enabled = false;
  if (flags.logLevel !== undefined) section('log').level = flags.logLevel;
}
