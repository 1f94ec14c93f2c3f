import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { CatalogEvent, EventType } from '../events/types.js';
import type { ComponentDefinition } from '../models/component.js';
import { CatalogMirror } from './mirror.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function comp(name: string, version: string, revision: number, extra: Partial<ComponentDefinition> = {}) {
  return {
    name,
    version,
    revision,
    digest: `sha256:${name}${version}`,
    deprecated: null,
    ...extra,
  } as ComponentDefinition;
}

function event(id: number, type: EventType, component: ComponentDefinition): CatalogEvent {
  return {
    id,
    type,
    time: '2026-01-01T00:00:00.000Z',
    subject: { name: component.name, version: component.version, digest: component.digest },
    data: { component },
  };
}

/** A catalog server with a fixed list (two pages) and a fixed stream of events after it. */
async function catalog(list: ComponentDefinition[], revision: number, events: CatalogEvent[]) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(`${url.pathname}?${url.searchParams}`);
    if (url.pathname === '/v1/components') {
      const second = url.searchParams.get('cursor') === 'p2';
      const half = Math.ceil(list.length / 2);
      res.writeHead(200, { 'content-type': 'application/json', 'x-catalog-revision': String(revision) });
      res.end(
        JSON.stringify({ items: second ? list.slice(half) : list.slice(0, half), next_cursor: second ? null : 'p2' }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const since = Number(url.searchParams.get('since'));
    for (const e of events)
      if (e.id > since) res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function waitFor(check: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('CatalogMirror', () => {
  it('keeps the latest version by semver, ignores stale events and reports each change', async () => {
    const { url, seen } = await catalog(
      // The list's revision is 10, but its second page was read after event 12 touched a@2.0.0.
      [comp('b', '1.0.0', 3), comp('c', '1.0.0-rc.1', 5), comp('a', '2.0.0', 12, { labels: { fresh: 'yes' } })],
      10,
      [
        // Already reflected by the list (id <= the held revision): ignored.
        event(12, 'component.updated', comp('a', '2.0.0', 12, { labels: { fresh: 'yes' } })),
        // An older version of a: never replaces 2.0.0.
        event(13, 'component.created', comp('a', '1.5.0', 13)),
        event(14, 'component.deprecated', comp('b', '1.0.0', 14, { deprecated: { reason: 'old', at: 'x' } })),
        // A prerelease does not displace a stable latest...
        event(15, 'component.created', comp('b', '2.0.0-beta.1', 15)),
        // ...but a stable version displaces a prerelease-only one.
        event(16, 'component.created', comp('c', '0.9.0', 16)),
        event(17, 'component.created', comp('d', '0.1.0', 17)),
        event(18, 'component.created', comp('a', '2.1.0', 18)),
      ],
    );
    const mirror = new CatalogMirror({ baseUrl: url, token: 'tok' });
    const log: string[] = [];
    mirror.on('added', (c) => log.push(`added ${c.name}@${c.version}`));
    mirror.on('updated', (c, prev) => log.push(`updated ${c.name}@${c.version} from ${prev.version}`));
    mirror.on('deprecated', (c) => log.push(`deprecated ${c.name}@${c.version}`));
    await mirror.ready();
    await waitFor(() => mirror.revision === 18);
    await mirror.close();
    expect(log).toEqual([
      'added b@1.0.0',
      'added c@1.0.0-rc.1',
      'added a@2.0.0',
      'deprecated b@1.0.0',
      'updated c@0.9.0 from 1.0.0-rc.1',
      'added d@0.1.0',
      'updated a@2.1.0 from 2.0.0',
    ]);
    expect(mirror.list().map((c) => `${c.name}@${c.version}`)).toEqual(['a@2.1.0', 'b@1.0.0', 'c@0.9.0', 'd@0.1.0']);
    expect(mirror.get('b')?.deprecated).not.toBeNull();
    expect(seen).toContain('/v1/components?limit=500&include_prerelease=false&cursor=p2');
    expect(seen.some((s) => s.startsWith('/v1/events?since=10&type=component.created'))).toBe(true);
  });

  it('with includePrerelease, a higher prerelease is the latest', async () => {
    const { url } = await catalog([comp('b', '1.0.0', 3)], 3, [
      event(4, 'component.created', comp('b', '2.0.0-rc.1', 4)),
    ]);
    const mirror = new CatalogMirror({ baseUrl: url, includePrerelease: true });
    await mirror.ready();
    await waitFor(() => mirror.revision === 4);
    await mirror.close();
    expect(mirror.get('b')?.version).toBe('2.0.0-rc.1');
  });

  it('rejects ready() with the server error when the list is refused', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ status: 401, code: 'unauthorized', detail: 'bad token' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const mirror = new CatalogMirror({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    await expect(mirror.ready()).rejects.toMatchObject({ code: 'unauthorized' });
    await mirror.close();
  });
});
