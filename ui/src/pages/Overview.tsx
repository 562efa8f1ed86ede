import { useState } from 'preact/hooks';
import { ApiError, call, canCreate, capabilities, describeError, encodePath, list } from '../api';
import { useLoad, useTitle } from '../hooks';
import { href, navigate } from '../router';
import { relativeTime, seconds } from '../format';
import { Alert, Link, StatusBadge } from '../components/ui';

/** `sys/sync/destinations/aws-sm/:name/status`, as the overview shows it. */
export interface Summary {
  name: string;
  type: string;
  associations: number;
  sync_status_counts: Record<string, number>;
  with_last_error: number;
  queue_depth: number;
  oldest_pending_seconds: number;
  last_success_at?: string;
  aws: { state: 'ok' | 'throttled' | 'unavailable'; since: string; next_probe_at?: string; throttled_answers: number };
}

interface Row {
  type: string;
  name: string;
  summary?: Summary;
  error?: string;
}

const AWS_STATE: Record<string, string> = { ok: 'OK', throttled: 'Throttled', unavailable: 'Unavailable (outage)' };

export function AwsState({ aws }: { aws: Summary['aws'] }) {
  return (
    <span class={`badge badge-${aws.state === 'ok' ? 'ok' : 'error'}`} title={`since ${aws.since}`}>
      AWS: {AWS_STATE[aws.state] ?? aws.state}
    </span>
  );
}

export function StatusCounts({ counts }: { counts: Record<string, number> }) {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return <span class="muted">none</span>;
  return (
    <ul class="counts">
      {entries.map(([status, n]) => (
        <li key={status}>
          <StatusBadge status={status} /> <span class="count">{n}</span>
        </li>
      ))}
    </ul>
  );
}

/** Every destination with its counts by status, AWS state, oldest pending change and last success; polled every 2 s. */
export function Overview() {
  useTitle('Secrets sync');
  const loaded = useLoad(async (): Promise<{ rows: Row[]; mayCreate: boolean; listDenied: boolean }> => {
    const probe = 'sys/sync/destinations/aws-sm/*';
    const caps = await capabilities([probe]).catch(() => ({}) as Record<string, string[]>);
    let listed: Awaited<ReturnType<typeof list>>;
    try {
      listed = await list('sys/sync/destinations');
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return { rows: [], mayCreate: canCreate(caps[probe]), listDenied: true };
      throw err;
    }
    const rows: Row[] = [];
    for (const [typeKey, names] of Object.entries(listed.key_info ?? {})) {
      for (const name of names as string[]) rows.push({ type: typeKey.replace(/\/$/, ''), name });
    }
    await Promise.all(
      rows.map(async (r) => {
        try {
          r.summary = (await call(`sys/sync/destinations/${encodePath(r.type)}/${encodeURIComponent(r.name)}/status`)).data;
        } catch (err) {
          r.error = describeError(err);
        }
      }),
    );
    rows.sort((a, b) => a.name.localeCompare(b.name));
    return { rows, mayCreate: canCreate(caps[probe]), listDenied: false };
  }, [], 2000);

  const data = loaded.data;
  return (
    <section aria-labelledby="overview-title">
      <div class="page-head">
        <h1 id="overview-title">Secrets sync</h1>
        {data?.mayCreate && (
          <Link href={href('/sync/new')} class="button">
            New destination
          </Link>
        )}
      </div>
      <p class="lede">Every destination, refreshed every 2 seconds: are the secrets in AWS, and if not, why?</p>
      {loaded.error && <Alert tone="error">Could not load the destinations: {loaded.error}</Alert>}
      {data?.listDenied && <OpenByName />}
      {data && !data.listDenied && data.rows.length === 0 && <p>No destinations yet.</p>}
      {data && data.rows.length > 0 && (
        <div class="table-wrap" role="region" aria-label="Destinations" tabIndex={0}>
          <table class="overview">
            <thead>
              <tr>
                <th scope="col">Destination</th>
                <th scope="col">Associations by status</th>
                <th scope="col">AWS</th>
                <th scope="col">Waiting</th>
                <th scope="col">Oldest pending</th>
                <th scope="col">Last success</th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map((r) => (
                <tr key={`${r.type}/${r.name}`} data-destination={r.name}>
                  <th scope="row">
                    <Link href={href(`/sync/${r.type}/${encodeURIComponent(r.name)}`)}>{r.name}</Link>
                    <span class="muted small"> {r.type}</span>
                  </th>
                  {r.summary ? (
                    <>
                      <td>
                        <StatusCounts counts={r.summary.sync_status_counts} />
                        {r.summary.with_last_error > 0 && <div class="small error-text">{r.summary.with_last_error} with an error</div>}
                      </td>
                      <td>
                        <AwsState aws={r.summary.aws} />
                      </td>
                      <td>{r.summary.queue_depth}</td>
                      <td>{r.summary.queue_depth > 0 ? seconds(r.summary.oldest_pending_seconds) : '—'}</td>
                      <td>
                        <time dateTime={r.summary.last_success_at}>{relativeTime(r.summary.last_success_at)}</time>
                      </td>
                    </>
                  ) : (
                    <td colSpan={5} class="muted">
                      {r.error ?? 'loading…'}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** For a token that may not list destinations but may read one (a one-destination token). */
function OpenByName() {
  const [name, setName] = useState('');
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) navigate(href(`/sync/aws-sm/${encodeURIComponent(name.trim())}`));
      }}
    >
      <p>This token may not list destinations. Open one by name:</p>
      <label for="open-name">Destination name</label>
      <input id="open-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <button type="submit">Open</button>
    </form>
  );
}
