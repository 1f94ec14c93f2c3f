/// <reference lib="dom" />
// Code passed to page.evaluate runs in the browser: DOM types for it.
import { NestorClient } from '@nestor/sdk';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../packages/orchestrator/src/main.js';
import { component, TOKENS } from '../helpers.js';
import { buildWeb, launchChromium, type PageWatch, seriousViolations, startServer, watchPage } from './support.js';

// The catalog browser in a real Chromium against a real server holding the examples (design 10.8).

let web: { dir: string; cleanup: () => void };
let browser: Browser;
let server: { app: App; baseUrl: string; cleanup: () => Promise<void> };
let context: BrowserContext;
let page: Page;
let watch: PageWatch;

beforeAll(async () => {
  web = await buildWeb();
  browser = await launchChromium();
  server = await startServer(web.dir);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.cleanup();
  web?.cleanup();
});

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
  watch = watchPage(page, server.baseUrl);
});

afterEach(async () => {
  await context.close();
  // No CSP violation, no uncaught error, no request to any other host, on every page of every test.
  expect(watch.problems).toEqual([]);
});

const results = () => page.getByRole('list', { name: 'Components' }).getByRole('link');
const resultNames = async () =>
  (await results().all()).length === 0
    ? []
    : await results().evaluateAll((links) => links.map((a) => a.querySelector('.row-name')?.textContent ?? ''));

describe('catalog page', () => {
  it('lists the examples, and a search narrows the list as one types', async () => {
    await page.goto(`${server.baseUrl}/`);
    await expect.poll(resultNames).toContain('aws-vpc');
    const all = await resultNames();
    expect(all.length).toBeGreaterThanOrEqual(10);

    await page.getByRole('searchbox', { name: 'Search components' }).fill('postgres');
    await expect.poll(async () => (await resultNames()).length).toBeLessThan(all.length);
    const hits = await resultNames();
    expect(hits).toContain('aws-rds-postgres');
    expect(hits).not.toContain('aws-vpc');
    // Each result is a link whose name starts with the component name.
    await expect.poll(() => results().first().getAttribute('href')).toMatch(/^\/components\//);
    const name = await page.getByRole('link', { name: /^aws-rds-postgres/ }).count();
    expect(name).toBe(1);
    // The search is in the URL: a shareable link.
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('postgres');
  });

  it('a facet filters the list, with counts, and lands in the URL', async () => {
    await page.goto(`${server.baseUrl}/`);
    const gcp = page.getByRole('group', { name: 'provider' }).getByRole('checkbox', { name: /^gcp \(\d+\)$/ });
    await gcp.waitFor();
    const label = await page
      .getByRole('group', { name: 'provider' })
      .getByText(/^gcp \(\d+\)$/)
      .textContent();
    const count = Number(label?.match(/\((\d+)\)/)?.[1]);
    await gcp.check();
    await expect.poll(async () => (await resultNames()).every((n) => n.startsWith('gcp-'))).toBe(true);
    expect((await resultNames()).length).toBe(count);
    expect(new URL(page.url()).searchParams.get('provider')).toBe('gcp');
    expect(await gcp.isChecked()).toBe(true);
  });

  it('shows the facet counts and total of a server that implements DESIGN 10.1', async () => {
    // Today's server may not count facets; this one answers as the contract says, on top of the real list.
    const asked: { params: URLSearchParams | null } = { params: null };
    await page.route(
      (url) => url.pathname === '/v1/components',
      async (route) => {
        asked.params = new URL(route.request().url()).searchParams;
        const res = await route.fetch();
        const body = (await res.json()) as Record<string, unknown>;
        body['total'] = 4321;
        body['facets'] = {
          provider: [
            { value: 'aws', count: 4000 },
            { value: 'gcp', count: 321 },
          ],
          support_level: [{ value: 'supported', count: 4321 }],
        };
        await route.fulfill({ response: res, json: body });
      },
    );
    await page.goto(`${server.baseUrl}/`);
    await page.getByRole('group', { name: 'provider' }).getByRole('checkbox', { name: 'aws (4000)' }).waitFor();
    await page
      .getByRole('group', { name: 'support_level' })
      .getByRole('checkbox', { name: 'supported (4321)' })
      .waitFor();
    await expect.poll(() => page.locator('.count').textContent()).toMatch(/^4321 components/);
    expect(asked.params?.get('facets')).toBe('provider,category,resource_type,engine,maturity,support_level,label');
    // Facets the server did not count are not made up.
    expect(await page.getByRole('group', { name: 'category' }).count()).toBe(0);
  });

  it('loads a shared search link directly, with its query and facets applied', async () => {
    await page.goto(`${server.baseUrl}/?q=redis&provider=aws`);
    await expect.poll(resultNames).toEqual(['aws-elasticache-redis']);
    expect(await page.getByRole('searchbox', { name: 'Search components' }).inputValue()).toBe('redis');
    expect(
      await page
        .getByRole('group', { name: 'provider' })
        .getByRole('checkbox', { name: /^aws \(\d+\)$/ })
        .isChecked(),
    ).toBe(true);
  });

  it('shows a component published through the API without a reload', async () => {
    await page.goto(`${server.baseUrl}/`);
    await expect.poll(resultNames).toContain('aws-vpc');
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'same document';
    });
    const client = new NestorClient({ baseUrl: server.baseUrl, token: TOKENS.write });
    await client.createComponent(
      component({ name: 'aaa-live-bucket', description: 'Published while the page was open' }),
    );
    await expect.poll(resultNames, { timeout: 10_000 }).toContain('aaa-live-bucket');
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same document');
  });

  it('tells the person when a search fails, and recovers', async () => {
    await page.goto(`${server.baseUrl}/`);
    await expect.poll(resultNames).toContain('aws-vpc');
    await page.route('**/v1/components/search**', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          type: 'about:blank',
          title: 'Storage failure',
          status: 503,
          code: 'storage_failure',
          detail: 'down',
        }),
      }),
    );
    await page.getByRole('searchbox', { name: 'Search components' }).fill('vpc');
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toMatch(/search for “vpc” failed/);
    await page.unroute('**/v1/components/search**');
    await alert.getByRole('button', { name: 'Try again' }).click();
    await expect.poll(resultNames).toContain('aws-vpc');
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('moves between results with the arrow keys', async () => {
    await page.goto(`${server.baseUrl}/`);
    await expect.poll(resultNames).toContain('aws-vpc');
    await results().first().focus();
    await page.keyboard.press('ArrowDown');
    const names = await resultNames();
    expect(await page.evaluate(() => document.activeElement?.querySelector('.row-name')?.textContent)).toBe(names[1]);
    await page.keyboard.press('End');
    await page.keyboard.press('Home');
    expect(await page.evaluate(() => document.activeElement?.querySelector('.row-name')?.textContent)).toBe(names[0]);
  });
});

describe('component page', () => {
  it('shows versions, inputs, outputs, dependencies and the graph, whose nodes navigate', async () => {
    await page.goto(`${server.baseUrl}/components/aws-rds-postgres`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('aws-rds-postgres');
    const versions = page.getByRole('region', { name: 'Versions' });
    await expect
      .poll(() =>
        versions
          .getByRole('listitem')
          .filter({ hasText: /^\d+\.\d+\.\d+/ })
          .count(),
      )
      .toBeGreaterThanOrEqual(3);
    // Each version's changes come from the diff API, with the bump made.
    await expect.poll(() => versions.textContent()).toMatch(/major/);
    await page
      .getByRole('region', { name: 'Inputs' })
      .getByRole('rowheader', { name: 'instance_class', exact: true })
      .waitFor();
    await page
      .getByRole('region', { name: 'Outputs' })
      .getByRole('rowheader', { name: 'endpoint', exact: true })
      .waitFor();
    const deps = page.getByRole('region', { name: 'Dependencies' });
    await deps.getByRole('link', { name: 'aws-vpc' }).waitFor();
    await page.getByRole('region', { name: 'Dependents' }).waitFor();
    const graph = page.getByRole('region', { name: 'Dependency graph' });
    const node = graph.getByRole('link', { name: /aws-vpc/ });
    await node.waitFor();
    expect(await graph.locator('svg .edge').count()).toBeGreaterThanOrEqual(2);
    await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = 'same document';
    });
    await node.click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('aws-vpc');
    expect(new URL(page.url()).pathname).toMatch(/^\/components\/aws-vpc\/versions\/\d+\.\d+\.\d+$/);
    // Client-side navigation: the document stayed.
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same document');
    // aws-vpc is depended on: the page lists aws-rds-postgres among its dependents.
    await page
      .getByRole('region', { name: 'Dependents' })
      .getByRole('link', { name: /aws-rds-postgres/ })
      .first()
      .waitFor();
  });

  it('loads a version link directly and marks it in the timeline', async () => {
    await page.goto(`${server.baseUrl}/components/aws-rds-postgres/versions/2.2.0`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('aws-rds-postgres');
    await expect.poll(() => page.locator('.head-line .version').textContent()).toBe('2.2.0');
    await expect
      .poll(() => page.getByRole('region', { name: 'Versions' }).locator('[aria-current="page"]').textContent())
      .toBe('2.2.0');
  });

  it('says so when the component does not exist', async () => {
    // The 404s of the component's reads are the expected answer here, whenever they arrive.
    watch.expected = /the server responded with a status of 404/;
    await page.goto(`${server.baseUrl}/components/no-such-component`);
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/no component named “no-such-component”/);
  });
});

describe('engines, sources and activity pages', () => {
  it('lists engines with their health', async () => {
    await page.goto(`${server.baseUrl}/engines`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Engines');
    await page.getByRole('rowheader', { name: /terraform/ }).waitFor();
  });

  it('lists sources with their last sync', async () => {
    await page.goto(`${server.baseUrl}/sources`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Sources');
    await expect.poll(() => page.locator('main').textContent()).toMatch(/Last sync|No source is configured/);
  });

  it('streams events live as list items, and filters them', async () => {
    await page.goto(`${server.baseUrl}/activity`);
    const events = page.getByRole('list', { name: 'Events' }).getByRole('listitem');
    await expect.poll(() => events.count()).toBeGreaterThan(0);
    const client = new NestorClient({ baseUrl: server.baseUrl, token: TOKENS.write });
    await client.createComponent(component({ name: 'activity-probe' }));
    await expect
      .poll(() => events.first().textContent(), { timeout: 10_000 })
      .toMatch(/component\.created.*activity-probe/);
    await page.getByLabel('Name contains').fill('activity-probe');
    await expect.poll(() => events.count()).toBe(1);
  });
});

describe('accessibility (axe-core, no serious or critical violation)', () => {
  const pages: [string, string, string][] = [
    ['catalog', '/', 'aws-vpc'],
    ['catalog, dark theme', '/?theme=dark', 'aws-vpc'],
    ['component', '/components/aws-rds-postgres', 'instance_class'],
    ['engines', '/engines', 'terraform'],
    ['sources', '/sources', 'Sources'],
    ['activity', '/activity', 'component.'],
  ];
  for (const [title, path, text] of pages) {
    it(title, async () => {
      if (path.includes('theme=dark')) await context.addInitScript(() => localStorage.setItem('nestor.theme', 'dark'));
      await page.goto(`${server.baseUrl}${path}`);
      await expect.poll(() => page.locator('main').textContent()).toContain(text);
      expect(await seriousViolations(page)).toEqual([]);
    });
  }

  it('phone-sized catalog and component pages', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [path, text] of [
      ['/', 'aws-vpc'],
      ['/components/aws-vpc', 'Versions'],
    ]) {
      await page.goto(`${server.baseUrl}${path}`);
      await expect.poll(() => page.locator('main').textContent()).toContain(text);
      expect(await seriousViolations(page)).toEqual([]);
      // Nothing wider than the screen: no sideways scrolling of the page itself.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    }
  });
});

describe('with anonymous reads off', () => {
  let locked: { app: App; baseUrl: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    locked = await startServer(web.dir, (c) => {
      c.auth.anonymous_read = false;
    });
  });
  afterAll(() => locked?.cleanup());

  it('asks for a token, keeps it for the session and then shows the catalog', async () => {
    watch = watchPage(page, locked.baseUrl);
    page.removeAllListeners('request');
    await page.goto(`${locked.baseUrl}/`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in with an API token');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('API token', { exact: true }).fill(TOKENS.read);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(resultNames).toContain('aws-vpc');
    expect(await page.evaluate(() => sessionStorage.getItem('nestor.token'))).toBe(TOKENS.read);
    // A deep link in the same tab uses the stored token at once.
    await page.goto(`${locked.baseUrl}/components/aws-vpc`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('aws-vpc');
  });
});
