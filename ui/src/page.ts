/**
 * What every page tells the frame: its title (the document's) and whether its data is still loading, which the
 * frame shows as `aria-busy` on `<main>` (tests and screen readers wait for it to turn false).
 */
import { createContext } from 'preact';
import { useContext, useEffect, useLayoutEffect } from 'preact/hooks';
import type { Caller, Session } from './types';

export const BusyContext = createContext<(busy: boolean) => void>(() => {});

const ANONYMOUS: Session = {
  caller: { kind: 'anonymous' },
  csrfToken: null,
  expiresAt: null,
  tokenRequired: false,
};
export const SessionContext = createContext<Session>(ANONYMOUS);

export function usePage(title: string, busy: boolean): void {
  const setBusy = useContext(BusyContext);
  useLayoutEffect(() => setBusy(busy), [busy, setBusy]);
  useEffect(() => {
    document.title = `${title} · PRFactory worker`;
  }, [title]);
}

export function useSession(): Session {
  return useContext(SessionContext);
}

/** Who approves or rejects a plan from the dashboard: the resume events' `approvedBy` / `rejectedBy`. */
export function actorName(caller: Caller): string {
  if (caller.kind === 'operator') return 'operator (dashboard)';
  if (caller.kind === 'tenant') return `tenant ${caller.tenantId} (dashboard)`.slice(0, 200);
  return 'dashboard';
}
