import { useState } from 'preact/hooks';
import { ApiError, call, describeError } from '../api';
import { Alert, Field, messagesByField } from '../components/ui';
import { parseTags } from './CreateDestination';
import type { DestinationRecord } from './Destination';

const FIELDS = ['region', 'role_arn', 'external_id', 'secret_name_template', 'granularity', 'custom_tags', 'access_key_id', 'secret_access_key', 'identity_token_audience', 'endpoint_url'];

const tagsText = (tags: unknown) =>
  Object.entries((tags ?? {}) as Record<string, string>)
    .map(([k, x]) => `${k}=${x}`)
    .join('\n');

/**
 * Edits a destination with a JSON merge patch (`PATCH`, as `vault patch` sends): only the fields
 * changed are sent, a removed tag as `null`. Credentials are write-only: blank keeps them.
 */
export function EditDestination(props: { destination: DestinationRecord; path: string; onDone: (text: string) => void; onCancel: () => void }) {
  const d = props.destination;
  const initial: Record<string, string> = {
    region: String(d.connection_details.region ?? ''),
    role_arn: String(d.connection_details.role_arn ?? ''),
    external_id: String(d.connection_details.external_id ?? ''),
    endpoint_url: String(d.connection_details.endpoint_url ?? ''),
    secret_name_template: String(d.options.secret_name_template ?? ''),
    granularity: String(d.options.granularity_level ?? 'secret-path'),
    custom_tags: tagsText(d.options.custom_tags),
    access_key_id: '',
    secret_access_key: '',
    identity_token_audience: '',
  };
  const [v, setV] = useState(initial);
  const [errors, setErrors] = useState<{ byField: Record<string, string>; general: string[] }>({ byField: {}, general: [] });
  const [busy, setBusy] = useState(false);
  const set = (k: string) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  const input = (k: string, label: string, type: 'text' | 'password' = 'text', hint?: string) => (
    <Field id={`e-${k}`} label={label} hint={hint} error={errors.byField[k]}>
      {(a) =>
        type === 'password' ? (
          <input {...a} type="password" autocomplete="off" value={v[k]} onInput={set(k)} />
        ) : (
          <input {...a} type="text" autocomplete="off" value={v[k]} onInput={set(k)} />
        )
      }
    </Field>
  );
  const hasKeys = d.connection_details.access_key_id !== undefined;

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({ byField: {}, general: [] });
    setBusy(true);
    try {
      const patch: Record<string, unknown> = {};
      for (const k of ['region', 'role_arn', 'external_id', 'secret_name_template', 'granularity', 'endpoint_url']) {
        if (v[k] !== initial[k]) patch[k] = v[k] === '' ? null : v[k];
      }
      for (const k of ['access_key_id', 'secret_access_key', 'identity_token_audience']) if (v[k]) patch[k] = v[k];
      if (v.custom_tags !== initial.custom_tags) {
        const before = parseTags(initial.custom_tags!);
        const after = parseTags(v.custom_tags!);
        const tags: Record<string, string | null> = { ...after };
        for (const k of Object.keys(before)) if (!(k in after)) tags[k] = null;
        patch.custom_tags = tags;
      }
      if (Object.keys(patch).length === 0) {
        props.onCancel();
        return;
      }
      await call(props.path, { method: 'PATCH', body: patch });
      props.onDone(`Saved: ${Object.keys(patch).join(', ')}.`);
    } catch (err) {
      const messages = err instanceof ApiError ? (err.errors.length ? err.errors : [describeError(err)]) : [describeError(err)];
      setErrors(messagesByField(messages, FIELDS));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel form" onSubmit={submit} aria-labelledby="edit-title" noValidate>
      <h2 id="edit-title">Edit {d.name}</h2>
      {errors.general.length > 0 && (
        <Alert tone="error">
          {errors.general.map((m) => (
            <p key={m}>{m}</p>
          ))}
        </Alert>
      )}
      {input('region', 'Region')}
      {hasKeys && (
        <>
          {input('access_key_id', 'New access key ID', 'text', 'Blank keeps the current keys.')}
          {input('secret_access_key', 'New secret access key', 'password')}
        </>
      )}
      {input('role_arn', 'Role ARN')}
      {input('external_id', 'External ID')}
      {!hasKeys && input('identity_token_audience', 'New identity token audience', 'text', 'Blank keeps the current audience.')}
      {input('secret_name_template', 'Secret name template')}
      <Field id="e-granularity" label="Granularity" error={errors.byField.granularity}>
        {(a) => (
          <select {...a} value={v.granularity} onChange={set('granularity')}>
            <option value="secret-path">secret-path</option>
            <option value="secret-key">secret-key</option>
          </select>
        )}
      </Field>
      <Field id="e-custom_tags" label="Custom tags (key=value, one per line)" error={errors.byField.custom_tags}>
        {(a) => <textarea {...a} rows={3} value={v.custom_tags} onInput={set('custom_tags')} />}
      </Field>
      {input('endpoint_url', 'Endpoint URL', 'text', 'Changing it needs sudo on the destination path.')}
      <div class="actions">
        <button type="submit" disabled={busy}>
          Save changes
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
