// `npm run screenshots`: the catalog browser's pages, as docs/screenshots/*.png (shown in the
// README). Starts the built server with the examples on a free port, drives Debian's Chromium
// headless (NESTOR_CHROMIUM to use another), and writes the images.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildApp, defaultConfig } from '../packages/orchestrator/dist/main.js';

const CHROMIUM = process.env.NESTOR_CHROMIUM ?? '/usr/bin/chromium';
const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
if (!existsSync(CHROMIUM)) {
  console.error(`screenshots: chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set NESTOR_CHROMIUM)`);
  process.exit(1);
}

const data = mkdtempSync(join(tmpdir(), 'nestor-screenshots-'));
const config = defaultConfig();
config.store.type = 'memory';
config.data_dir = data;
config.examples.path = fileURLToPath(new URL('../examples', import.meta.url));
config.log.level = 'warn';
const app = await buildApp(config);
await app.start();
const base = await app.server.listen({ host: '127.0.0.1', port: 0 });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});

const shots = [
  { file: 'catalog.png', path: '/', ready: '.vlist li' },
  { file: 'catalog-search.png', path: '/?q=postgres&provider=aws', ready: '.vlist li' },
  { file: 'component.png', path: '/components/aws-rds-postgres', ready: '.graph .node', fullPage: true },
  { file: 'engines.png', path: '/engines', ready: 'table' },
  { file: 'sources.png', path: '/sources', ready: 'main h1' },
  { file: 'activity.png', path: '/activity', ready: '.events li' },
  { file: 'catalog-dark.png', path: '/', ready: '.vlist li', dark: true },
  { file: 'component-phone.png', path: '/components/aws-vpc', ready: '.graph .node', phone: true, fullPage: true },
];

mkdirSync(OUT, { recursive: true });
try {
  for (const shot of shots) {
    const context = await browser.newContext({
      viewport: shot.phone ? { width: 390, height: 844 } : { width: 1280, height: 860 },
      deviceScaleFactor: 1,
      colorScheme: shot.dark ? 'dark' : 'light',
    });
    const page = await context.newPage();
    await page.goto(`${base}${shot.path}`);
    await page.waitForSelector(shot.ready, { timeout: 15_000 });
    // Let the remaining sections (diffs, impact, engines) answer.
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(OUT, shot.file), fullPage: shot.fullPage ?? false });
    console.log(`docs/screenshots/${shot.file}`);
    await context.close();
  }
} finally {
  await browser.close();
  await app.close();
  rmSync(data, { recursive: true, force: true });
}
