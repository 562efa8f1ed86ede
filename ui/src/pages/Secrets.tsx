import { useTitle } from '../hooks';
import { href, navigate } from '../router';
import { KvBrowser } from '../components/KvBrowser';

/** Browse the KV v2 mounts the token can see, and open a secret's page. */
export function SecretsBrowser() {
  useTitle('Secrets');
  return (
    <section aria-labelledby="secrets-title">
      <h1 id="secrets-title">Secrets</h1>
      <p class="lede">KV version 2 secrets: choose one to see where it syncs, its versions and metadata.</p>
      <div class="panel">
        <KvBrowser idPrefix="browse" onChoose={(mount, path) => navigate(href('/secret', { mount, path }))} />
      </div>
    </section>
  );
}
