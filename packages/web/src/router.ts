import { useEffect, useState } from 'preact/hooks';

/** The client routes of design 10.8; the orchestrator answers each with index.html. */
export type Route =
  | { page: 'catalog' }
  | { page: 'component'; name: string; version: string | null }
  | { page: 'engines' }
  | { page: 'sources' }
  | { page: 'activity' }
  | { page: 'not_found' };

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '') return { page: 'catalog' };
  if (pathname === '/engines') return { page: 'engines' };
  if (pathname === '/sources') return { page: 'sources' };
  if (pathname === '/activity') return { page: 'activity' };
  const parts = pathname.split('/').filter((p) => p !== '');
  if (parts[0] === 'components' && parts.length === 2)
    return { page: 'component', name: decode(parts[1]), version: null };
  if (parts[0] === 'components' && parts.length === 4 && parts[2] === 'versions') {
    return { page: 'component', name: decode(parts[1]), version: decode(parts[3]) };
  }
  return { page: 'not_found' };
}

function decode(part: string | undefined): string {
  try {
    return decodeURIComponent(part ?? '');
  } catch {
    return part ?? '';
  }
}

export function componentPath(name: string, version?: string | null): string {
  const base = `/components/${encodeURIComponent(name)}`;
  return version ? `${base}/versions/${encodeURIComponent(version)}` : base;
}

const NAVIGATE = 'nestor:navigate';

/** Client-side navigation: pushes (or replaces) the URL and tells the app. */
export function navigate(href: string, opts: { replace?: boolean } = {}): void {
  if (href === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new Event(NAVIGATE));
}

/** The current location, re-rendered on navigation and on back/forward. */
export function useLocation(): { pathname: string; search: string } {
  const [loc, setLoc] = useState(() => ({ pathname: location.pathname, search: location.search }));
  useEffect(() => {
    const update = () => setLoc({ pathname: location.pathname, search: location.search });
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE, update);
    };
  }, []);
  return loc;
}

/**
 * Turns clicks on same-origin links into client navigation (ordinary clicks only: a modified click
 * or another target keeps the browser's behaviour, so links open in new tabs as usual).
 */
export function interceptLinks(root: HTMLElement): () => void {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const target = e.target as Element | null;
    const link = target?.closest('a');
    // `getAttribute`: an SVG link's `target` property is an object, always truthy.
    if (!link || link.getAttribute('target') || link.hasAttribute('download')) return;
    const href = link.getAttribute('href') ?? link.getAttribute('xlink:href');
    if (!href || href.startsWith('#')) return;
    const url = new URL(href, location.href);
    if (url.origin !== location.origin || parseRoute(url.pathname).page === 'not_found') return;
    e.preventDefault();
    navigate(url.pathname + url.search);
    window.scrollTo(0, 0);
  };
  root.addEventListener('click', onClick);
  return () => root.removeEventListener('click', onClick);
}
