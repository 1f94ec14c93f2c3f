import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../../config/config.js';
import { ensureDir } from '../../fs-utils.js';
import type { Logger } from '../../observability/logging/logger.js';
import type { StoredTokenVerifier } from '../../tokens/verifier.js';
import { generateToken, sha256Hex, TokenAuthenticator, type TokenRecord } from './auth.js';

/**
 * Tokens from config and `NESTOR_API_TOKENS`, kept only as hashes. With none configured, the first
 * start generates an admin token, returns it once for the CLI to hand over, and keeps only its hash
 * under the data folder so later starts accept it without ever writing the token itself to disk.
 * The folder and the hash file are made private (0700 / 0600) even when they already existed with
 * looser modes: whoever can replace the hash holds an admin token.
 */
export function setUpAuth(
  config: Config,
  logger: Logger,
  stored?: StoredTokenVerifier,
): { auth: TokenAuthenticator; generatedAdminToken: string | null } {
  const records: TokenRecord[] = config.auth.tokens.map((t) => ({
    name: t.name,
    sha256: Buffer.from(t.sha256 ?? sha256Hex(t.token ?? ''), 'hex'),
    scopes: t.scopes,
  }));
  let generatedAdminToken: string | null = null;
  if (records.length === 0) {
    const hashFile = adminTokenHashFile(config);
    let hash: string | null = null;
    try {
      hash = readFileSync(hashFile, 'utf8').trim();
    } catch {
      hash = null;
    }
    if (!hash || !/^[0-9a-f]{64}$/.test(hash)) {
      generatedAdminToken = generateToken();
      hash = sha256Hex(generatedAdminToken);
      try {
        ensureDir(dirname(hashFile));
        writeFileSync(hashFile, `${hash}\n`, { mode: 0o600 });
      } catch (err) {
        logger.warn(
          { err, file: hashFile },
          'could not keep the generated admin token hash; it is valid until restart',
        );
      }
    }
    restrictModes(dirname(hashFile), hashFile, logger);
    records.push({ name: 'generated-admin', sha256: Buffer.from(hash, 'hex'), scopes: ['admin'] });
  }
  return {
    auth: new TokenAuthenticator({
      tokens: records,
      anonymousRead: config.auth.anonymous_read,
      ...(stored ? { stored } : {}),
    }),
    generatedAdminToken,
  };
}

/** Where the generated admin token's hash is kept; `generatedAdminTokenFile` sits beside it. */
export function adminTokenHashFile(config: Config): string {
  return join(config.data_dir, 'admin-token.sha256');
}

function restrictModes(dir: string, file: string, logger: Logger): void {
  for (const [path, mode] of [
    [dir, 0o700],
    [file, 0o600],
  ] as const) {
    try {
      if ((statSync(path).mode & 0o777) !== mode) chmodSync(path, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      logger.warn(
        { err, path, mode: mode.toString(8) },
        'could not restrict the mode of the admin token hash or its folder',
      );
    }
  }
}
