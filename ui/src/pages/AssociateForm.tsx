import { useState } from 'preact/hooks';
import { describeError } from '../api';
import { Alert, Field } from '../components/ui';
import { KvBrowser } from '../components/KvBrowser';

/** Associates a KV v2 secret with the destination: pick it from the listings, or type it. */
export function AssociateForm(props: { onSubmit: (mount: string, secret: string) => Promise<void>; onCancel: () => void }) {
  const [mount, setMount] = useState('');
  const [path, setPath] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    if (!mount || !path) {
      setError('Choose a mount and a secret path.');
      return;
    }
    setBusy(true);
    try {
      await props.onSubmit(mount, path);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="associate-title">
      <h3 id="associate-title">Associate a secret</h3>
      <KvBrowser
        idPrefix="assoc"
        chosen={{ mount, path }}
        onChoose={(m, p) => {
          setMount(m);
          setPath(p);
        }}
      />
      <div class="row">
        <Field id="assoc-chosen-mount" label="Mount path">
          {(a) => <input {...a} value={mount} onInput={(e) => setMount(e.currentTarget.value)} placeholder="secret/" />}
        </Field>
        <Field id="assoc-chosen-path" label="Secret path">
          {(a) => <input {...a} value={path} onInput={(e) => setPath(e.currentTarget.value)} placeholder="app/config" />}
        </Field>
      </div>
      {error && <Alert tone="error">{error}</Alert>}
      <div class="actions">
        <button type="submit" disabled={busy}>
          Associate
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
