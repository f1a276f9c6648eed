/**
 * The frame: the session, the header with its navigation and Sign out, and the page of the current hash route
 * inside `<main id="main">`, whose `aria-busy` is true until the page's data is shown.
 *
 * The session is read first (`GET /v1/session`): 401 shows the sign-in page and comes back to the page asked for
 * afterwards; a worker that needs no token answers with the anonymous caller.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, isApiError, setCsrfToken, setUnauthorizedHandler } from './api';
import { ErrorNotice } from './common';
import { ExecutionPage } from './ExecutionPage';
import { ExecutionsPage } from './ExecutionsPage';
import { FailedPage } from './FailedPage';
import { LoginPage } from './LoginPage';
import { BusyContext, SessionContext, usePage } from './page';
import { loginHref, navigate, parseHash, type Route, useHash } from './router';
import type { Session } from './types';
import { WorkersPage } from './WorkersPage';

type SessionState =
  | { status: 'loading' }
  | { status: 'signedOut' }
  | { status: 'signedIn'; session: Session }
  | { status: 'failed'; error: unknown };

/** What the page knows of a worker from before sessions (no `/v1/session` route): an open one. */
const OPEN_WORKER: Session = {
  caller: { kind: 'anonymous' },
  csrfToken: null,
  expiresAt: null,
  tokenRequired: false,
};
const SIGNED_OUT: Session = { ...OPEN_WORKER, tokenRequired: true };

function callerLabel(session: Session): string {
  const { caller } = session;
  if (caller.kind === 'operator') return 'Signed in as the operator';
  if (caller.kind === 'tenant') return `Signed in as tenant ${caller.tenantId}`;
  return session.tokenRequired ? 'Signed in' : 'Open worker: no token needed';
}

function NotFoundPage() {
  usePage('Page not found', false);
  return (
    <>
      <h1>Page not found</h1>
      <p>
        This dashboard has no such page. <a href="#/executions">All executions</a>
      </p>
    </>
  );
}

function PageOf({ route, onSignedIn }: { route: Route; onSignedIn(session: Session): void }) {
  switch (route.page) {
    case 'executions':
      return <ExecutionsPage filters={route.filters} />;
    case 'execution':
      return <ExecutionPage executionId={route.executionId} />;
    case 'failed':
      return <FailedPage />;
    case 'workers':
      return <WorkersPage />;
    case 'login':
      return <LoginPage onSignedIn={onSignedIn} />;
    case 'notFound':
      return <NotFoundPage />;
  }
}

const NAV: { href: string; label: string; pages: Route['page'][] }[] = [
  { href: '#/executions', label: 'Executions', pages: ['executions', 'execution'] },
  { href: '#/failed', label: 'Failed', pages: ['failed'] },
  { href: '#/workers', label: 'Workers', pages: ['workers'] },
];

export function App() {
  const hash = useHash();
  const route = parseHash(hash);
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  // whose data is loading: a page reports for its own route, so a new route is busy until its page says not
  const [busy, setBusy] = useState({ hash, busy: true });
  const reportBusy = useMemo(() => (loading: boolean) => setBusy({ hash, busy: loading }), [hash]);
  const main = useRef<HTMLElement>(null);

  const adopt = useCallback((session: Session | null) => {
    setCsrfToken(session?.csrfToken ?? null);
    setState(session ? { status: 'signedIn', session } : { status: 'signedOut' });
  }, []);

  const readSession = useCallback(() => {
    setState({ status: 'loading' });
    api.session().then(adopt, (error: unknown) => {
      if (isApiError(error, 404)) adopt(OPEN_WORKER);
      else setState({ status: 'failed', error });
    });
  }, [adopt]);

  useEffect(() => {
    setUnauthorizedHandler(() => adopt(null));
    readSession();
  }, [adopt, readSession]);

  // signed out: the sign-in page, then back to the page asked for
  useEffect(() => {
    if (state.status === 'signedOut' && route.page !== 'login') {
      navigate(loginHref(hash || '#/executions'), { replace: true });
    }
  }, [state.status, route.page, hash]);

  // a new page (not new filters): move focus to it, as a page load would, so reading starts at its heading
  const pageKey = route.page === 'execution' ? `execution/${route.executionId}` : route.page;
  const firstPage = useRef(true);
  useEffect(() => {
    if (firstPage.current) {
      firstPage.current = false;
      return;
    }
    main.current?.focus({ preventScroll: false });
  }, [pageKey]);

  const signOut = async () => {
    try {
      await api.signOut();
    } catch {
      // the session may already have ended; either way this page forgets it
    }
    adopt(null);
  };

  const onSignedIn = (session: Session) => {
    adopt(session);
    navigate(route.page === 'login' && route.next ? route.next : '#/executions');
  };

  const session = state.status === 'signedIn' ? state.session : SIGNED_OUT;
  let content = null;
  if (state.status === 'failed') {
    content = (
      <>
        <h1>PRFactory worker</h1>
        <ErrorNotice error={state.error}>The dashboard cannot reach the worker</ErrorNotice>
        <button type="button" onClick={readSession}>
          Try again
        </button>
      </>
    );
  } else if (state.status === 'signedIn' || (state.status === 'signedOut' && route.page === 'login')) {
    content = <PageOf key={hash} route={route} onSignedIn={onSignedIn} />;
  }
  const pageBusy = busy.hash !== hash || busy.busy;
  const mainBusy = state.status === 'loading' || (content !== null && state.status !== 'failed' && pageBusy);

  return (
    <SessionContext.Provider value={session}>
      <BusyContext.Provider value={reportBusy}>
        <header class="topbar">
          <a class="brand" href="#/executions">
            PRFactory worker
          </a>
          {state.status === 'signedIn' ? (
            <nav aria-label="Main">
              <ul>
                {NAV.map((item) => (
                  <li key={item.href}>
                    <a href={item.href} aria-current={item.pages.includes(route.page) ? 'page' : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
          {state.status === 'signedIn' ? (
            <div class="account">
              <span class="muted">{callerLabel(state.session)}</span>
              {state.session.tokenRequired ? (
                <button type="button" onClick={() => void signOut()}>
                  Sign out
                </button>
              ) : null}
            </div>
          ) : null}
        </header>
        <main id="main" ref={main} tabIndex={-1} aria-busy={mainBusy ? 'true' : 'false'}>
          {content}
        </main>
      </BusyContext.Provider>
    </SessionContext.Provider>
  );
}
