import { useState } from 'preact/hooks';
import { ApiError, call, describeError, encodeSegment } from '../api';
import { useLoad, useTitle } from '../hooks';
import { href, navigate } from '../router';
import { Alert, Field, Link, messagesByField } from '../components/ui';

const FIELDS = [
  'name',
  'region',
  'access_key_id',
  'secret_access_key',
  'role_arn',
  'external_id',
  'identity_token_audience',
  'identity_token_ttl',
  'secret_name_template',
  'granularity',
  'custom_tags',
  'endpoint_url',
  'sts_endpoint_url',
];

const ADVANCED = ['secret_name_template', 'granularity', 'custom_tags', 'endpoint_url', 'sts_endpoint_url'];

/** `k=v` lines → an object (blank lines ignored). */
export function parseTags(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const i = t.indexOf('=');
    if (i <= 0) throw new ApiError(400, [`custom_tags: "${t}" is not key=value`]);
    out[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return out;
}

/** The secrets-sync OIDC issuer (its discovery document is public), for web identity. */
export function useSyncIssuer() {
  return useLoad(
    () => call('identity/oidc/secrets-sync/.well-known/openid-configuration', { anonymous: true }).then((r) => String(r.issuer ?? '')),
    [],
  );
}

/** The values a web-identity destination needs configured in AWS: provider URL, audience, sub. */
export function WebIdentityHelp({ issuer, name }: { issuer: string | undefined; name: string }) {
  const audience = issuer ? issuer.replace(/^https?:\/\//, '') : '';
  return (
    <div class="panel info-panel" aria-labelledby="wif-help-title">
      <h3 id="wif-help-title">Paste into AWS IAM</h3>
      <dl class="details">
        <div>
          <dt>OIDC provider URL (issuer)</dt>
          <dd class="mono" data-testid="oidc-issuer">
            {issuer || 'loading…'}
          </dd>
        </div>
        <div>
          <dt>Audience (suggested; must equal identity_token_audience)</dt>
          <dd class="mono">{audience || '—'}</dd>
        </div>
        <div>
          <dt>Role trust condition on sub</dt>
          <dd class="mono" data-testid="oidc-sub">
            secrets-sync:root:aws-sm:{name || '<destination name>'}
          </dd>
        </div>
      </dl>
      {issuer && !issuer.startsWith('https://') && (
        <p class="small">AWS fetches the issuer's keys over HTTPS only: set identity/oidc/config issuer to an https URL without a port.</p>
      )}
    </div>
  );
}

/** The create form for an aws-sm destination: static keys or web identity, the API's messages beside the fields. */
export function CreateDestination() {
  useTitle('New destination');
  const [v, setV] = useState<Record<string, string>>({ region: 'us-east-1', granularity: 'secret-path' });
  const [kind, setKind] = useState<'static' | 'web-identity'>('static');
  const [errors, setErrors] = useState<{ byField: Record<string, string>; general: string[] }>({ byField: {}, general: [] });
  const [busy, setBusy] = useState(false);
  const issuer = useSyncIssuer();
  const set = (k: string) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  const input = (k: string, label: string, opts: { type?: 'text' | 'password'; hint?: string; placeholder?: string } = {}) => (
    <Field id={`f-${k}`} label={label} hint={opts.hint} error={errors.byField[k]}>
      {(a) =>
        opts.type === 'password' ? (
          <input {...a} name={k} type="password" autocomplete="off" value={v[k] ?? ''} onInput={set(k)} />
        ) : (
          <input {...a} name={k} type="text" autocomplete="off" placeholder={opts.placeholder} value={v[k] ?? ''} onInput={set(k)} />
        )
      }
    </Field>
  );

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({ byField: {}, general: [] });
    const name = (v.name ?? '').trim();
    if (!name) {
      setErrors({ byField: { name: 'A name is required.' }, general: [] });
      return;
    }
    setBusy(true);
    try {
      const path = `sys/sync/destinations/aws-sm/${encodeSegment(name)}`;
      // A write to an existing name would change that destination: refuse instead.
      const exists = await call(path).then(
        () => true,
        (err) => (err instanceof ApiError && err.status === 404 ? false : Promise.reject(err)),
      );
      if (exists) throw new ApiError(400, [`name: a destination named "${name}" already exists`]);
      const keys = kind === 'static' ? ['access_key_id', 'secret_access_key', 'role_arn', 'external_id'] : ['role_arn', 'identity_token_audience', 'identity_token_ttl'];
      const body: Record<string, unknown> = {};
      for (const k of ['region', ...keys, 'secret_name_template', 'granularity', 'endpoint_url', 'sts_endpoint_url']) {
        if (v[k]?.trim()) body[k] = v[k]!.trim();
      }
      const tags = parseTags(v.custom_tags ?? '');
      if (Object.keys(tags).length > 0) body.custom_tags = tags;
      await call(path, { method: 'POST', body });
      navigate(href(`/sync/aws-sm/${encodeURIComponent(name)}`));
    } catch (err) {
      const messages = err instanceof ApiError ? (err.errors.length ? err.errors : [describeError(err)]) : [describeError(err)];
      setErrors(messagesByField(messages, FIELDS));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="create-title">
      <p class="crumbs">
        <Link href={href('/sync')}>Secrets sync</Link> / new destination
      </p>
      <h1 id="create-title">New AWS Secrets Manager destination</h1>
      <form class="panel form" onSubmit={submit} noValidate>
        {errors.general.length > 0 && (
          <Alert tone="error">
            {errors.general.map((m) => (
              <p key={m}>{m}</p>
            ))}
          </Alert>
        )}
        {input('name', 'Name', { hint: 'Letters, digits, - and _.' })}
        {input('region', 'Region', { placeholder: 'us-east-1' })}
        <fieldset class="segmented">
          <legend>Credentials</legend>
          <label>
            <input type="radio" name="kind" checked={kind === 'static'} onChange={() => setKind('static')} /> Static access keys
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === 'web-identity'} onChange={() => setKind('web-identity')} /> Web identity (no AWS keys in Ferry)
          </label>
        </fieldset>
        {kind === 'static' ? (
          <>
            {input('access_key_id', 'Access key ID')}
            {input('secret_access_key', 'Secret access key', { type: 'password', hint: 'Stored encrypted; shown masked from now on.' })}
            {input('role_arn', 'Role ARN to assume (optional)')}
            {input('external_id', 'External ID (optional)')}
          </>
        ) : (
          <>
            {input('role_arn', 'Role ARN', { placeholder: 'arn:aws:iam::123456789012:role/ferry-sync' })}
            {input('identity_token_audience', 'Identity token audience', { hint: 'The audience of the IAM OIDC provider.' })}
            {input('identity_token_ttl', 'Identity token TTL (optional)', { placeholder: '1h' })}
            <WebIdentityHelp issuer={issuer.data} name={(v.name ?? '').trim()} />
          </>
        )}
        <details open={ADVANCED.some((k) => errors.byField[k])}>
          <summary>Naming, tags and endpoints</summary>
          {input('secret_name_template', 'Secret name template (optional)', { placeholder: 'vault/{{ .MountAccessor }}/{{ .SecretPath }}' })}
          <Field id="f-granularity" label="Granularity" error={errors.byField.granularity}>
            {(a) => (
              <select {...a} value={v.granularity} onChange={set('granularity')}>
                <option value="secret-path">secret-path (one AWS secret per KV secret)</option>
                <option value="secret-key">secret-key (one AWS secret per top-level key)</option>
              </select>
            )}
          </Field>
          <Field id="f-custom_tags" label="Custom tags (key=value, one per line)" error={errors.byField.custom_tags}>
            {(a) => <textarea {...a} rows={3} value={v.custom_tags ?? ''} onInput={set('custom_tags')} />}
          </Field>
          {input('endpoint_url', 'Endpoint URL (optional)', { hint: 'An AWS-compatible endpoint; setting it needs sudo on the destination path.' })}
          {input('sts_endpoint_url', 'STS endpoint URL (optional)')}
        </details>
        <div class="actions">
          <button type="submit" disabled={busy}>
            Create destination
          </button>
          <Link href={href('/sync')} class="button secondary">
            Cancel
          </Link>
        </div>
      </form>
    </section>
  );
}
