import { useMemo, useState } from 'preact/hooks';
import { ApiError, call, canDelete, canPatch, canRead, canUpdate, capabilities, describeError } from '../api';
import { useLoad, useTitle } from '../hooks';
import { href, navigate } from '../router';
import { relativeTime, seconds } from '../format';
import { Alert, Details, Link, showValue, StatusBadge } from '../components/ui';
import { AwsState, StatusCounts, type Summary } from './Overview';
import { AssociateForm } from './AssociateForm';
import { EditDestination } from './EditDestination';

/** One entry of `…/associations` (Vault's fields and Ferry's extensions). */
export interface Association {
  accessor: string;
  secret_name: string;
  sync_status: string;
  updated_at: string;
  mount: string;
  sub_key?: string;
  external_name: string;
  last_error?: string;
  last_error_at?: string;
  attempts: number;
  next_attempt_at?: string;
}

export interface DestinationRecord {
  name: string;
  type: string;
  connection_details: Record<string, unknown>;
  options: Record<string, unknown>;
  purge_initiated_at?: string;
  purge_error?: string;
  missing_permissions?: Record<string, string>;
}

type SortKey = 'path' | 'external_name' | 'sync_status' | 'updated_at' | 'last_error';
const COLUMNS: Array<[SortKey, string]> = [
  ['path', 'Secret path'],
  ['external_name', 'AWS name'],
  ['sync_status', 'Status'],
  ['updated_at', 'Updated at'],
  ['last_error', 'Last error'],
];

const pathOf = (a: Association) => `${a.mount}${a.secret_name}${a.sub_key ? ` › ${a.sub_key}` : ''}`;
const sortValue = (a: Association, key: SortKey) => (key === 'path' ? pathOf(a) : String(a[key] ?? ''));

/** A destination: masked connection details, options, summary, and its associations with the actions the token may take. */
export function DestinationPage({ name }: { name: string }) {
  useTitle(`Destination ${name}`);
  const base = `sys/sync/destinations/aws-sm/${encodeURIComponent(name)}`;
  const [notice, setNotice] = useState<{ tone: 'success' | 'error' | 'info'; text: string } | undefined>();
  const [panel, setPanel] = useState<'none' | 'associate' | 'edit' | 'delete'>('none');

  const caps = useLoad(async () => {
    const paths = [base, `${base}/associations`, `${base}/associations/set`, `${base}/associations/remove`, `${base}/associations/retry`, `${base}/status`];
    const c = await capabilities(paths);
    return {
      edit: canPatch(c[base]),
      delete: canDelete(c[base]),
      associate: canUpdate(c[paths[2]!]),
      remove: canUpdate(c[paths[3]!]),
      retry: canUpdate(c[paths[4]!]),
      readStatus: canRead(c[paths[5]!]),
    };
  }, [name]);
  const destination = useLoad(() => call(base).then((r) => r.data as DestinationRecord), [name], 2000);
  const summary = useLoad(() => call(`${base}/status`).then((r) => r.data as Summary), [name], 2000);
  const associations = useLoad(
    () => call(`${base}/associations`).then((r) => Object.values((r.data?.associated_secrets ?? {}) as Record<string, Association>)),
    [name],
    2000,
  );

  const gone = destination.failure instanceof ApiError && destination.failure.status === 404;
  const may = caps.data;
  const refresh = () => Promise.all([destination.reload(), summary.reload(), associations.reload()]);

  const act = async (what: string, path: string, body: Record<string, unknown>) => {
    setNotice(undefined);
    try {
      const res = await call(path, { method: 'POST', body });
      const retried = res?.data?.retried;
      setNotice({ tone: 'success', text: retried !== undefined ? `${what}: ${retried} association${retried === 1 ? '' : 's'} re-queued.` : `${what}: done.` });
      await refresh();
    } catch (err) {
      setNotice({ tone: 'error', text: `${what} failed: ${describeError(err)}` });
    }
  };

  if (gone) {
    return (
      <section>
        <h1>Destination {name}</h1>
        <Alert tone="info">There is no destination named “{name}” (it may have been deleted).</Alert>
        <p>
          <Link href={href('/sync')}>Back to the overview</Link>
        </p>
      </section>
    );
  }

  const d = destination.data;
  const s = summary.data;
  const list = associations.data ?? [];
  const failed = list.filter((a) => a.sync_status.endsWith('_ERROR')).length;
  return (
    <section aria-labelledby="dest-title">
      <p class="crumbs">
        <Link href={href('/sync')}>Secrets sync</Link> / aws-sm
      </p>
      <div class="page-head">
        <h1 id="dest-title">{name}</h1>
        <div class="actions">
          {may?.edit && (
            <button type="button" class="secondary" aria-expanded={panel === 'edit'} onClick={() => setPanel(panel === 'edit' ? 'none' : 'edit')}>
              Edit
            </button>
          )}
          {may?.delete && (
            <button type="button" class="danger" aria-expanded={panel === 'delete'} onClick={() => setPanel(panel === 'delete' ? 'none' : 'delete')}>
              Delete…
            </button>
          )}
        </div>
      </div>
      {destination.error && !d && <Alert tone="error">Could not load the destination: {destination.error}</Alert>}
      {notice && <Alert tone={notice.tone}>{notice.text}</Alert>}
      {d?.purge_initiated_at && (
        <Alert tone="warning">
          Deleting with purge since {d.purge_initiated_at}: its secrets are being removed from AWS; the destination goes once they are.
          {d.purge_error && <> Last purge error: {d.purge_error}</>}
        </Alert>
      )}
      {panel === 'edit' && d && (
        <EditDestination
          destination={d}
          path={base}
          onDone={(text) => {
            setPanel('none');
            setNotice({ tone: 'success', text });
            void refresh();
          }}
          onCancel={() => setPanel('none')}
        />
      )}
      {panel === 'delete' && d && <DeletePanel name={name} path={base} onCancel={() => setPanel('none')} onStarted={(text) => {
        setPanel('none');
        setNotice({ tone: 'info', text });
        void refresh();
      }} />}

      <div class="cards">
        <section class="card" aria-labelledby="summary-title">
          <h2 id="summary-title">Summary</h2>
          {s ? (
            <Details
              entries={[
                ['Associations', String(s.associations)],
                ['By status', <StatusCounts counts={s.sync_status_counts} />],
                ['With an error', <span data-testid="with-last-error">{s.with_last_error}</span>],
                ['AWS', <AwsState aws={s.aws} />],
                ['Waiting', `${s.queue_depth}${s.queue_depth > 0 ? ` (oldest ${seconds(s.oldest_pending_seconds)})` : ''}`],
                ['Last success', <time dateTime={s.last_success_at}>{relativeTime(s.last_success_at)}</time>],
              ]}
            />
          ) : (
            <p class="muted">{summary.error ?? 'Loading…'}</p>
          )}
        </section>
        <section class="card" aria-labelledby="conn-title">
          <h2 id="conn-title">Connection</h2>
          {d ? <Details entries={Object.entries(d.connection_details).map(([k, v]) => [k, showValue(v)])} /> : <p class="muted">Loading…</p>}
          {d?.missing_permissions && (
            <>
              <h3>Missing optional permissions</h3>
              <Details entries={Object.entries(d.missing_permissions)} />
            </>
          )}
        </section>
        <section class="card" aria-labelledby="options-title">
          <h2 id="options-title">Options</h2>
          {d ? <Details entries={Object.entries(d.options).map(([k, v]) => [k, showValue(v)])} /> : <p class="muted">Loading…</p>}
        </section>
      </div>

      <section aria-labelledby="assoc-title">
        <div class="page-head">
          <h2 id="assoc-title">Associations</h2>
          <div class="actions">
            {may?.associate && (
              <button type="button" aria-expanded={panel === 'associate'} onClick={() => setPanel(panel === 'associate' ? 'none' : 'associate')}>
                Associate a secret
              </button>
            )}
            {may?.retry && failed > 0 && (
              <button type="button" class="secondary" onClick={() => act('Retry failed', `${base}/associations/retry`, {})}>
                Retry failed ({failed})
              </button>
            )}
          </div>
        </div>
        {panel === 'associate' && (
          <AssociateForm
            onCancel={() => setPanel('none')}
            onSubmit={async (mount, secret) => {
              await call(`${base}/associations/set`, { method: 'POST', body: { mount, secret_name: secret } });
              setPanel('none');
              setNotice({ tone: 'success', text: `Associated ${mount.replace(/\/?$/, '/')}${secret}.` });
              await refresh();
            }}
          />
        )}
        {associations.error && !associations.data && <Alert tone="error">Could not load the associations: {associations.error}</Alert>}
        <AssociationsTable
          rows={list}
          mayRemove={!!may?.remove}
          mayRetry={!!may?.retry}
          onRemove={(a) => act(`Remove ${a.mount}${a.secret_name}`, `${base}/associations/remove`, { mount: a.mount, secret_name: a.secret_name })}
          onRetry={(a) => act(`Retry ${a.mount}${a.secret_name}`, `${base}/associations/retry`, { mount: a.mount, secret_name: a.secret_name })}
        />
      </section>
    </section>
  );
}

function AssociationsTable(props: {
  rows: Association[];
  mayRemove: boolean;
  mayRetry: boolean;
  onRemove: (a: Association) => void;
  onRetry: (a: Association) => void;
}) {
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'path', dir: 1 });
  const [filter, setFilter] = useState('');
  const [status, setStatus] = useState('');
  const [confirming, setConfirming] = useState<string | undefined>();
  const statuses = useMemo(() => [...new Set(props.rows.map((r) => r.sync_status))].sort(), [props.rows]);
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return props.rows
      .filter((r) => !status || r.sync_status === status)
      .filter((r) => !f || [pathOf(r), r.external_name, r.sync_status, r.last_error ?? ''].some((v) => v.toLowerCase().includes(f)))
      .sort((a, b) => sortValue(a, sort.key).localeCompare(sortValue(b, sort.key)) * sort.dir);
  }, [props.rows, filter, status, sort]);
  const actions = props.mayRemove || props.mayRetry;
  return (
    <>
      <div class="toolbar" role="search">
        <label for="assoc-filter">Filter</label>
        <input id="assoc-filter" type="search" placeholder="path, AWS name, status, error" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        <label for="assoc-status">Status</label>
        <select id="assoc-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="">All</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <span class="muted small" aria-live="polite">
          {shown.length} of {props.rows.length} shown
        </span>
      </div>
      <div class="table-wrap" role="region" aria-label="Associations" tabIndex={0}>
        <table class="associations">
          <thead>
            <tr>
              {COLUMNS.map(([key, label]) => (
                <th key={key} scope="col" aria-sort={sort.key === key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                  <button type="button" class="sort" onClick={() => setSort({ key, dir: sort.key === key ? (-sort.dir as 1 | -1) : 1 })}>
                    {label}
                    <span aria-hidden="true">{sort.key === key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                </th>
              ))}
              {actions && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {shown.length === 0 && (
              <tr>
                <td colSpan={actions ? 6 : 5} class="muted">
                  {props.rows.length === 0 ? 'No secrets are associated with this destination.' : 'No association matches the filter.'}
                </td>
              </tr>
            )}
            {shown.map((a) => {
              const id = `${a.accessor}/${a.secret_name}/${a.sub_key ?? ''}`;
              return (
                <tr key={id} data-secret={`${a.mount}${a.secret_name}`}>
                  <th scope="row">
                    <Link href={href('/secret', { mount: a.mount, path: a.secret_name })}>{pathOf(a)}</Link>
                  </th>
                  <td class="mono">{a.external_name}</td>
                  <td>
                    <StatusBadge status={a.sync_status} />
                    {a.attempts > 0 && <div class="small muted">{a.attempts} failed attempt{a.attempts === 1 ? '' : 's'}</div>}
                  </td>
                  <td>
                    <time dateTime={a.updated_at} title={relativeTime(a.updated_at)} data-testid="updated-at">
                      {a.updated_at}
                    </time>
                  </td>
                  <td class="error-cell">
                    {a.last_error ? (
                      <>
                        <span class="error-text">{a.last_error}</span>
                        {a.last_error_at && <div class="small muted">at {a.last_error_at}</div>}
                      </>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                  {actions && (
                    <td class="row-actions">
                      {props.mayRetry && a.sync_status.endsWith('_ERROR') && (
                        <button type="button" class="secondary small" onClick={() => props.onRetry(a)} aria-label={`Retry ${pathOf(a)}`}>
                          Retry
                        </button>
                      )}
                      {props.mayRemove &&
                        (confirming === id ? (
                          <>
                            <button type="button" class="danger small" onClick={() => (setConfirming(undefined), props.onRemove(a))} aria-label={`Confirm removing ${pathOf(a)}`}>
                              Confirm remove
                            </button>
                            <button type="button" class="secondary small" onClick={() => setConfirming(undefined)}>
                              Cancel
                            </button>
                          </>
                        ) : (
                          <button type="button" class="secondary small" onClick={() => setConfirming(id)} aria-label={`Remove ${pathOf(a)}`}>
                            Remove
                          </button>
                        ))}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** Delete, with purge by default, after the destination's name is typed. */
function DeletePanel(props: { name: string; path: string; onCancel: () => void; onStarted: (text: string) => void }) {
  const [typed, setTyped] = useState('');
  const [purge, setPurge] = useState(true);
  const [error, setError] = useState<string | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      await call(props.path, { method: 'DELETE', query: purge ? { purge: 'true' } : {} });
      // Without purge (no associations) the destination is gone at once; with purge it goes once AWS is clean.
      try {
        await call(props.path);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          navigate(href('/sync'));
          return;
        }
      }
      props.onStarted(`Deleting ${props.name}${purge ? ' with purge: its secrets are being removed from AWS' : ''}.`);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <form class="panel danger-panel" onSubmit={submit} aria-labelledby="delete-title">
      <h2 id="delete-title">Delete {props.name}</h2>
      <label class="check">
        <input type="checkbox" checked={purge} onChange={(e) => setPurge(e.currentTarget.checked)} /> Purge: unsync every associated secret (delete it from AWS) first
      </label>
      <label for="delete-confirm">
        Type <strong>{props.name}</strong> to confirm
      </label>
      <input id="delete-confirm" autocomplete="off" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
      {error && <Alert tone="error">{error}</Alert>}
      <div class="actions">
        <button type="submit" class="danger" disabled={typed !== props.name}>
          Delete destination
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

