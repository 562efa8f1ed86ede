import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, describeError, encodePath } from '../api';
import { setToken, takeEndedReason } from '../session';
import { useTitle } from '../hooks';
import { Alert, Field } from '../components/ui';

/** Sign in with a token, or with userpass (the token it returns is kept; the password is not). */
export function SignIn() {
  useTitle('Sign in');
  const [method, setMethod] = useState<'token' | 'userpass'>('token');
  const [token, setTokenInput] = useState('');
  const [mount, setMount] = useState('userpass');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [notice] = useState(takeEndedReason);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.getElementById(method === 'token' ? 'token' : 'username')?.focus();
  }, [method]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      let client: string;
      if (method === 'token') {
        client = token.trim();
        if (!client) throw new Error('Enter a token.');
      } else {
        if (!username || !password) throw new Error('Enter a username and a password.');
        const res = await call(`auth/${encodePath(mount.replace(/^\/+|\/+$/g, ''))}/login/${encodeURIComponent(username)}`, {
          method: 'POST',
          body: { password },
          anonymous: true,
        });
        client = res.auth.client_token;
      }
      // The token is checked before it is kept.
      try {
        await call('auth/token/lookup-self', { token: client });
      } catch (err) {
        if (err instanceof ApiError && err.status === 403) throw new Error('Ferry does not accept this token (permission denied).', { cause: err });
        throw err;
      }
      setToken(client);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <h1>Sign in to Ferry</h1>
      {notice && <Alert tone="info">{notice}</Alert>}
      <form onSubmit={submit} aria-describedby={error ? 'signin-error' : undefined}>
        <fieldset class="segmented">
          <legend>Method</legend>
          <label>
            <input type="radio" name="method" value="token" checked={method === 'token'} onChange={() => setMethod('token')} /> Token
          </label>
          <label>
            <input type="radio" name="method" value="userpass" checked={method === 'userpass'} onChange={() => setMethod('userpass')} /> Username and
            password
          </label>
        </fieldset>
        {method === 'token' ? (
          <Field id="token" label="Token" hint="Kept in this tab's session storage until you sign out or close the tab.">
            {(a) => <input {...a} type="password" autocomplete="off" value={token} onInput={(e) => setTokenInput(e.currentTarget.value)} />}
          </Field>
        ) : (
          <>
            <Field id="username" label="Username">
              {(a) => <input {...a} type="text" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />}
            </Field>
            <Field id="password" label="Password">
              {(a) => <input {...a} type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />}
            </Field>
            <Field id="mount" label="Mount path" hint="Where the userpass auth method is enabled.">
              {(a) => <input {...a} type="text" value={mount} onInput={(e) => setMount(e.currentTarget.value)} />}
            </Field>
          </>
        )}
        {error && (
          <Alert tone="error" id="signin-error">
            {error}
          </Alert>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
