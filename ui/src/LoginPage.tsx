/** Sign in with the worker's API token: exchanged once for an HttpOnly session cookie, never kept by the page. */
import { useState } from 'preact/hooks';
import { api, isApiError } from './api';
import { messageOf } from './common';
import { usePage, useSession } from './page';
import type { Session } from './types';

export function LoginPage({ onSignedIn }: { onSignedIn(session: Session): void }) {
  const session = useSession();
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  usePage('Sign in', false);

  const submit = async (form: HTMLFormElement) => {
    const input = form.elements.namedItem('token');
    const token = input instanceof HTMLInputElement ? input.value.trim() : '';
    if (token === '') {
      setError('Enter the API token.');
      return;
    }
    setSending(true);
    setError(null);
    try {
      const signedIn = await api.signIn(token);
      if (input instanceof HTMLInputElement) input.value = '';
      onSignedIn(signedIn);
    } catch (failure) {
      setError(
        isApiError(failure, 401)
          ? 'That token was refused. Use the worker’s Http.ApiToken or a tenant’s ApiToken.'
          : `Signing in failed: ${messageOf(failure)}`,
      );
    } finally {
      setSending(false);
    }
  };

  return (
    <>
      <h1>Sign in</h1>
      {session.tokenRequired ? null : (
        <p class="notice">
          This worker needs no token: <a href="#/executions">go to the executions</a>.
        </p>
      )}
      <form
        class="login stack"
        onSubmit={(event) => {
          event.preventDefault();
          void submit(event.currentTarget);
        }}
      >
        <p>The dashboard asks for the API token once and keeps a session cookie until it expires.</p>
        <div class="field">
          <label for="api-token">API token</label>
          <input
            id="api-token"
            name="token"
            type="password"
            autoComplete="current-password"
            required
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? 'login-error' : undefined}
          />
        </div>
        {error ? (
          <p id="login-error" class="notice notice-error" role="alert">
            {error}
          </p>
        ) : null}
        <div class="actions">
          <button type="submit" class="primary" disabled={sending}>
            Sign in
          </button>
        </div>
      </form>
    </>
  );
}
