/** Whether the page follows a live stream, as text: not announced, it changes too often to be read out. */
import type { StreamState } from './live';

const LABELS: Record<StreamState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  off: 'Not live',
};

export function LiveBadge({ state }: { state: StreamState }) {
  return <span class={`live live-${state}`}>{LABELS[state]}</span>;
}
