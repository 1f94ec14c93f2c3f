/// <reference lib="dom" />
// Code passed to page.evaluate runs in the browser: DOM types for it.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import type { App, Config } from '../../packages/orchestrator/src/main.js';
import { buildApp } from '../../packages/orchestrator/src/main.js';
import { testConfig } from '../helpers.js';

/** Debian's chromium (installed by `.ci/run`); `NESTOR_CHROMIUM` points elsewhere. */
export const CHROMIUM = process.env['NESTOR_CHROMIUM'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const WEB_ROOT = fileURLToPath(new URL('../../packages/web/', import.meta.url));
export const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));

/**
 * Builds the catalog browser into a fresh folder, as `npm run build` does (never a stale dist/).
 * Returns the folder and a cleanup.
 */
export async function buildWeb(): Promise<{ dir: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'nestor-web-'));
  await build({ root: WEB_ROOT, logLevel: 'warn', build: { outDir: dir, emptyOutDir: true } });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Chromium, or a failure that says how to install it: these tests never skip. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `chromium not found at ${CHROMIUM}: the browser tests need it (apt-get install -y chromium, as .ci/run does, or set NESTOR_CHROMIUM)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    env: { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'nestor-chromium-home-')) },
  });
}

/** A real server on port 0 with the examples loaded and the given web build. */
export async function startServer(
  webDir: string,
  mutate?: (c: Config) => void,
): Promise<{ app: App; baseUrl: string; cleanup: () => Promise<void> }> {
  const { config, dir } = testConfig((c) => {
    c.examples.enabled = true;
    c.examples.path = EXAMPLES;
    mutate?.(c);
  });
  const app = await buildApp(config, { webDir });
  await app.start();
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return {
    app,
    baseUrl: `http://127.0.0.1:${address.port}`,
    cleanup: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a page did that it must not: CSP violations, errors, requests to another host. */
export interface PageWatch {
  problems: string[];
  /**
   * Console errors a test expects (a page that reads what does not exist logs each 404 it gets,
   * some after the page has shown its answer): matched when they arrive, not filtered afterwards.
   */
  expected: RegExp | null;
}

/** Records console errors, uncaught exceptions and requests leaving `origin`. */
export function watchPage(page: Page, origin: string): PageWatch {
  const watch: PageWatch = { problems: [], expected: null };
  page.on('console', (m) => {
    if (
      m.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of (401|503)/.test(m.text()) &&
      !watch.expected?.test(m.text())
    ) {
      watch.problems.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => watch.problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:'))
      watch.problems.push(`request to another host: ${url}`);
  });
  return watch;
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core in the page (through the DevTools protocol, so the page's CSP stays on) and
 * returns the serious and critical violations.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
