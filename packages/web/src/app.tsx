import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { onAuthNeeded, storedToken, storeToken } from './api.js';
import { ActivityPage } from './pages/activity.js';
import { CatalogPage } from './pages/catalog.js';
import { ComponentPage } from './pages/component.js';
import { EnginesPage } from './pages/engines.js';
import { SourcesPage } from './pages/sources.js';
import { parseRoute, type Route, useLocation } from './router.js';

const THEME_KEY = 'nestor.theme';
type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem(THEME_KEY);
    if (saved === 'light' || saved === 'dark') return saved;
  } catch {
    // No storage: follow the system.
  }
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const TITLES: Record<Route['page'], string> = {
  catalog: 'Catalog',
  component: 'Component',
  engines: 'Engines',
  sources: 'Sources',
  activity: 'Activity',
  not_found: 'Not found',
};

export function App() {
  const loc = useLocation();
  const route = parseRoute(loc.pathname);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [authNeeded, setAuthNeeded] = useState(false);
  // Bumped when the token changes: every page loads again with the new client.
  const [session, setSession] = useState(0);

  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);
  useEffect(() => onAuthNeeded(setAuthNeeded), []);
  useEffect(() => {
    const name = route.page === 'component' ? route.name : TITLES[route.page];
    document.title = `${name} · Nestor catalog`;
  }, [route]);

  const toggleTheme = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    setTheme(next);
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      // Not remembered; the choice still applies to this page.
    }
  };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          Nestor
        </a>
        <nav aria-label="Main">
          <NavLink href="/" current={route.page === 'catalog' || route.page === 'component'}>
            Catalog
          </NavLink>
          <NavLink href="/engines" current={route.page === 'engines'}>
            Engines
          </NavLink>
          <NavLink href="/sources" current={route.page === 'sources'}>
            Sources
          </NavLink>
          <NavLink href="/activity" current={route.page === 'activity'}>
            Activity
          </NavLink>
        </nav>
        <div class="top-actions">
          {storedToken() ? (
            <button
              type="button"
              class="ghost"
              onClick={() => {
                storeToken(null);
                setSession((s) => s + 1);
              }}
            >
              Forget token
            </button>
          ) : null}
          <button type="button" class="ghost" aria-pressed={theme === 'dark'} onClick={toggleTheme}>
            Dark theme
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {authNeeded ? (
          <TokenForm
            onDone={() => {
              setAuthNeeded(false);
              setSession((s) => s + 1);
            }}
          />
        ) : (
          <Page
            key={`${session}:${route.page}:${route.page === 'component' ? route.name : ''}`}
            route={route}
            search={loc.search}
          />
        )}
      </main>
    </>
  );
}

function Page({ route, search }: { route: Route; search: string }) {
  switch (route.page) {
    case 'catalog':
      return <CatalogPage search={search} />;
    case 'component':
      return <ComponentPage name={route.name} version={route.version} />;
    case 'engines':
      return <EnginesPage />;
    case 'sources':
      return <SourcesPage />;
    case 'activity':
      return <ActivityPage />;
    default:
      return (
        <section class="page">
          <h1>Page not found</h1>
          <p>
            There is nothing at this address. <a href="/">Back to the catalog</a>
          </p>
        </section>
      );
  }
}

function NavLink({ href, current, children }: { href: string; current: boolean; children: ComponentChildren }) {
  return (
    <a href={href} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

/** Asked for when the server refuses anonymous reads (`auth.anonymous_read: false`). */
function TokenForm({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const hadToken = storedToken() !== undefined;
  return (
    <section class="page narrow" aria-labelledby="token-title">
      <h1 id="token-title">Sign in with an API token</h1>
      <p>
        {hadToken
          ? 'The server refused the token given earlier. Enter a token with read access.'
          : 'This orchestrator does not allow anonymous reads. Enter an API token with read access; it is kept for this browser tab only.'}
      </p>
      <form
        class="token-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim() === '') return;
          storeToken(value.trim());
          onDone();
        }}
      >
        <label for="token">API token</label>
        <input
          id="token"
          ref={input}
          type="password"
          autoComplete="off"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          required
        />
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}
