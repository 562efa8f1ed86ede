import { useState } from 'preact/hooks';
import { useLoad } from '../hooks';
import { kvKeys, kvV2Mounts } from '../pages/kv';
import { Alert } from './ui';

/**
 * Mount and path pickers fed by listings: the KV v2 mounts, then the keys of a folder (folders
 * open, secrets are chosen). A token that may not list can still type a path.
 */
export function KvBrowser(props: { idPrefix: string; onChoose: (mount: string, path: string) => void; chosen?: { mount: string; path: string } }) {
  const mounts = useLoad(kvV2Mounts, []);
  const [mount, setMount] = useState<string | undefined>();
  const [folder, setFolder] = useState('');
  const active = mount ?? mounts.data?.[0];
  const keys = useLoad(() => (active ? kvKeys(active, folder) : Promise.resolve([])), [active, folder]);
  const up = folder.replace(/[^/]+\/$/, '');
  return (
    <div class="kv-browser">
      <label for={`${props.idPrefix}-mount`}>Mount</label>
      <select
        id={`${props.idPrefix}-mount`}
        value={active ?? ''}
        onChange={(e) => {
          setMount(e.currentTarget.value);
          setFolder('');
        }}
      >
        {(mounts.data ?? []).map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
      </select>
      {mounts.error && <Alert tone="warning">Could not list the mounts: {mounts.error}</Alert>}
      {active && (
        <nav class="kv-list" aria-label={`Secrets in ${active}${folder}`}>
          <p class="small muted">
            {active}
            {folder}
          </p>
          <ul>
            {folder && (
              <li>
                <button type="button" class="link" onClick={() => setFolder(up)}>
                  ../ (up)
                </button>
              </li>
            )}
            {(keys.data ?? []).map((k) => (
              <li key={k}>
                {k.endsWith('/') ? (
                  <button type="button" class="link" onClick={() => setFolder(folder + k)} aria-label={`Open folder ${folder}${k}`}>
                    {k}
                  </button>
                ) : (
                  <button
                    type="button"
                    class="link"
                    aria-pressed={props.chosen?.mount === active && props.chosen.path === folder + k}
                    onClick={() => props.onChoose(active, folder + k)}
                  >
                    {k}
                  </button>
                )}
              </li>
            ))}
            {keys.data?.length === 0 && <li class="muted">No secrets here.</li>}
          </ul>
          {keys.error && <p class="small muted">Listing refused or failed: {keys.error}</p>}
        </nav>
      )}
    </div>
  );
}
