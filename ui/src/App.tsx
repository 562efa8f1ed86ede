import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, ApiError } from './api';
import { clearToken, currentToken, onSessionChange } from './session';
import { href, navigate, useRoute } from './router';
import { useLoad } from './hooks';
import { Alert, Link } from './components/ui';
import { SignIn } from './pages/SignIn';
import { Overview } from './pages/Overview';
import { DestinationPage } from './pages/Destination';
import { CreateDestination } from './pages/CreateDestination';
import { SecretPage } from './pages/Secret';
import { SecretsBrowser } from './pages/Secrets';

export interface Identity {
  display_name?: string;
  policies?: string[];
}

/** The application: the sign-in page without a token, the pages with one. */
export function App() {
  const [token, setTokenState] = useState(currentToken());
  useEffect(() => onSessionChange(() => setTokenState(currentToken())), []);
  const route = useRoute();
  if (!token) return <SignIn />;
  return <SignedIn key={token} path={route.path} query={route.query} />;
}

function SignedIn({ path, query }: { path: string; query: URLSearchParams }) {
  // The token is checked once per session: a 403 here clears it (see api.ts).
  const [identity, setIdentity] = useState<Identity | undefined>();
  useEffect(() => {
    call('auth/token/lookup-self').then(
      (res) => setIdentity(res.data ?? {}),
      (err) => {
        if (!(err instanceof ApiError && err.status === 403)) setIdentity({});
      },
    );
  }, []);
  const home = path === '/' || path === '/sign-in';
  useEffect(() => {
    if (home) navigate(href('/sync'), true);
  }, [home]);
  let page;
  let section: 'sync' | 'secrets' = 'sync';
  const m = /^\/sync\/aws-sm\/([^/]+)$/.exec(path);
  if (path === '/sync' || home) page = <Overview />;
  else if (path === '/sync/new') page = <CreateDestination />;
  else if (m) page = <DestinationPage key={m[1]} name={decodeURIComponent(m[1]!)} />;
  else if (path === '/secrets') {
    section = 'secrets';
    page = <SecretsBrowser />;
  } else if (path === '/secret' && query.get('mount') && query.get('path')) {
    section = 'secrets';
    page = <SecretPage key={`${query.get('mount')}|${query.get('path')}`} mount={query.get('mount')!} path={query.get('path')!} />;
  } else page = <NotFound />;
  return (
    <Layout identity={identity} section={section}>
      {page}
    </Layout>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <Link href={href('/sync')}>Go to the sync overview</Link>
      </p>
    </section>
  );
}

/** Server-wide states every page shows: sealed, and sync disabled (both polled). */
function Banners() {
  const seal = useLoad(() => call('sys/seal-status', { anonymous: true }), [], 2000);
  const config = useLoad(() => call('sys/sync/config').then((r) => r.data as { disabled: boolean }), [], 2000);
  return (
    <div class="banners">
      {seal.data?.sealed && (
        <Alert tone="error">
          <strong>Ferry is sealed.</strong> Nothing is read, written or synced until it is unsealed (<code>vault operator unseal</code>).
        </Alert>
      )}
      {!seal.data?.sealed && config.data?.disabled && (
        <Alert tone="warning">
          <strong>Secrets sync is disabled</strong> (<code>sys/sync/config</code> <code>disabled=true</code>): changes are kept and wait as PENDING until it is enabled again.
        </Alert>
      )}
    </div>
  );
}

function Layout({ identity, section, children }: { identity: Identity | undefined; section: string; children: ComponentChildren }) {
  const signOut = () => {
    clearToken('You signed out.');
    navigate(href('/sign-in'), true);
  };
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href={href('/sync')} class="brand">
          Ferry
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link href={href('/sync')} aria-current={section === 'sync' ? 'page' : undefined}>
                Secrets sync
              </Link>
            </li>
            <li>
              <Link href={href('/secrets')} aria-current={section === 'secrets' ? 'page' : undefined}>
                Secrets
              </Link>
            </li>
          </ul>
        </nav>
        <div class="who">
          {identity?.display_name && (
            <span title={`Policies: ${(identity.policies ?? []).join(', ')}`}>
              Signed in as <strong>{identity.display_name}</strong>
            </span>
          )}
          <button type="button" class="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Banners />
        {children}
      </main>
    </>
  );
}
