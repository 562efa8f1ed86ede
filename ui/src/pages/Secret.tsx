import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, describeError, encodePath } from '../api';
import { useLoad, useTitle } from '../hooks';
import { href } from '../router';
import { relativeTime } from '../format';
import { Alert, Details, Link, showValue, StatusBadge } from '../components/ui';

interface Metadata {
  created_time: string;
  updated_time: string;
  current_version: number;
  oldest_version: number;
  max_versions: number;
  cas_required: boolean;
  delete_version_after: string;
  custom_metadata: Record<string, string> | null;
  versions: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }>;
}

/**
 * A KV v2 secret: where it syncs, its versions and metadata. Its values are fetched only when
 * asked for, kept in this component's state only (no storage, no URL, no log), never cached
 * (`no-store`), and dropped when hidden or when the page is left.
 */
export function SecretPage({ mount, path }: { mount: string; path: string }) {
  const m = mount.replace(/\/?$/, '/');
  useTitle(`Secret ${m}${path}`);
  // Built where a refusal (a `..` segment) is caught and shown, not during render.
  const api = (kind: 'metadata' | 'data') => `${encodePath(m.replace(/\/$/, ''))}/${kind}/${encodePath(path)}`;
  const meta = useLoad(async () => (await call(api('metadata'))).data as Metadata, [m, path]);
  const syncs = useLoad(
    () =>
      call('sys/sync/associations/destinations', { query: { mount: m, secret_name: path } }).then(
        (r) => Object.values((r.data?.associated_destinations ?? {}) as Record<string, { type: string; name: string; sync_status: string; updated_at: string }>),
        (err) => (err instanceof ApiError && err.status === 404 ? [] : Promise.reject(err)),
      ),
    [m, path],
    2000,
  );
  const [version, setVersion] = useState<number | undefined>();
  const [values, setValues] = useState<Record<string, unknown> | undefined>();
  const [valueError, setValueError] = useState<string | undefined>();
  // Values leave memory with the page.
  useEffect(() => () => setValues(undefined), []);

  const md = meta.data;
  const shownVersion = version ?? md?.current_version;
  const reveal = async () => {
    setValueError(undefined);
    try {
      const res = await call(api('data'), { query: shownVersion ? { version: String(shownVersion) } : {} });
      setValues((res.data?.data ?? {}) as Record<string, unknown>);
    } catch (err) {
      setValueError(describeError(err));
    }
  };

  return (
    <section aria-labelledby="secret-title">
      <p class="crumbs">
        <Link href={href('/secrets')}>Secrets</Link> / {m}
      </p>
      <h1 id="secret-title" class="mono">
        {m}
        {path}
      </h1>
      <div class="cards">
        <section class="card" aria-labelledby="syncs-title">
          <h2 id="syncs-title">Synced to</h2>
          {syncs.error && <Alert tone="error">{syncs.error}</Alert>}
          {syncs.data && syncs.data.length === 0 && <p class="muted">Not associated with any destination.</p>}
          {syncs.data && syncs.data.length > 0 && (
            <ul class="plain">
              {syncs.data.map((s) => (
                <li key={`${s.type}/${s.name}`}>
                  <Link href={href(`/sync/${s.type}/${encodeURIComponent(s.name)}`)}>
                    {s.type}/{s.name}
                  </Link>{' '}
                  <StatusBadge status={s.sync_status} /> <span class="small muted">updated {relativeTime(s.updated_at)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section class="card" aria-labelledby="meta-title">
          <h2 id="meta-title">Metadata</h2>
          {meta.error && <Alert tone="error">{meta.error}</Alert>}
          {md && (
            <Details
              entries={[
                ['Current version', String(md.current_version)],
                ['Created', md.created_time],
                ['Updated', md.updated_time],
                ['Max versions', md.max_versions ? String(md.max_versions) : 'server default'],
                ['Check-and-set required', md.cas_required ? 'yes' : 'no'],
                ['Delete versions after', md.delete_version_after === '0s' ? 'never' : md.delete_version_after],
                ['Custom metadata', showValue(md.custom_metadata ?? {})],
              ]}
            />
          )}
        </section>
      </div>
      {md && (
        <section aria-labelledby="versions-title">
          <h2 id="versions-title">Versions</h2>
          <div class="table-wrap" role="region" aria-label="Versions" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Created</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(md.versions ?? {})
                  .sort(([a], [b]) => Number(b) - Number(a))
                  .map(([n, ver]) => (
                    <tr key={n}>
                      <th scope="row">
                        {n}
                        {Number(n) === md.current_version && <span class="small muted"> (current)</span>}
                      </th>
                      <td>{ver.created_time}</td>
                      <td>{ver.destroyed ? 'destroyed' : ver.deletion_time ? `deleted ${ver.deletion_time}` : 'live'}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {md && (
        <section aria-labelledby="values-title">
          <h2 id="values-title">Values</h2>
          <div class="toolbar">
            <label for="value-version">Version</label>
            <select
              id="value-version"
              value={String(shownVersion)}
              onChange={(e) => {
                setVersion(Number(e.currentTarget.value));
                setValues(undefined);
              }}
            >
              {Object.keys(md.versions ?? {})
                .sort((a, b) => Number(b) - Number(a))
                .map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
            </select>
            {values ? (
              <button type="button" class="secondary" onClick={() => setValues(undefined)}>
                Hide values
              </button>
            ) : (
              <button type="button" onClick={reveal}>
                Reveal values
              </button>
            )}
          </div>
          {valueError && <Alert tone="error">{valueError}</Alert>}
          {values ? (
            <div class="table-wrap" role="region" aria-label="Secret values" tabIndex={0}>
              <table class="values">
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Value</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(values).map(([k, x]) => (
                    <tr key={k}>
                      <th scope="row" class="mono">
                        {k}
                      </th>
                      <td class="mono">{typeof x === 'string' ? x : JSON.stringify(x)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p class="muted">Values are hidden. They are fetched only when you reveal them, and never stored.</p>
          )}
        </section>
      )}
    </section>
  );
}
