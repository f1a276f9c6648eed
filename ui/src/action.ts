/** A button's request: whether it is under way, how it ended, and the message to show for it. */
import { useCallback, useRef, useState } from 'preact/hooks';

export interface Action {
  running: boolean;
  error: unknown;
  /** what to tell the person once it succeeded; null before */
  done: string | null;
  /** runs `request` unless one is under way; true when it succeeded */
  run(request: () => Promise<unknown>, done: string): Promise<boolean>;
}

export function useAction(): Action {
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const inFlight = useRef(false);
  const run = useCallback(async (request: () => Promise<unknown>, message: string) => {
    if (inFlight.current) return false;
    inFlight.current = true;
    setRunning(true);
    setError(null);
    setDone(null);
    try {
      await request();
      setDone(message);
      return true;
    } catch (failure) {
      setError(failure);
      return false;
    } finally {
      inFlight.current = false;
      setRunning(false);
    }
  }, []);
  return { running, error, done, run };
}

/**
 * An event id that stays the same while the same event is sent again (a retry after a lost answer is then
 * applied once, as the API's idempotency promises), and is new for a different event.
 */
export function useEventIds(newId: () => string): (content: unknown) => { eventId: string; sent(): void } {
  const pending = useRef<{ key: string; eventId: string } | null>(null);
  return useCallback(
    (content: unknown) => {
      const key = JSON.stringify(content);
      if (pending.current?.key !== key) pending.current = { key, eventId: newId() };
      const { eventId } = pending.current;
      return {
        eventId,
        sent: () => {
          pending.current = null;
        },
      };
    },
    [newId],
  );
}
