/**
 * A circuit breaker per tenant and provider (cockatiel's, the Node counterpart of Polly), kept by each worker
 * on its own: after `Llm.BreakerFailures` consecutive transient failures the provider is open for
 * `Llm.BreakerSeconds`; then one call is let through as a probe, and its outcome closes or reopens it.
 *
 * A step that finds the circuit open does not wait in its slot: it fails with {@link BreakerOpenFailure}, which
 * the host turns into a `retrying` execution (reason `breaker_open`, attempts unchanged) due when the circuit
 * half-opens. While a probe is in flight, the others are parked the same way for a few seconds instead of
 * queueing behind it (cockatiel would make them wait for the probe).
 *
 * Only transient failures count: a rate limit says the provider is up, and a permanent failure is the request's
 * fault (a bad key, an unknown model), not the provider's. Neither is a success either: a run of transient
 * failures with a permanent one among them still opens the circuit.
 */
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import { BreakerOpenFailure, StepFailure } from '../../actors/failures.js';

export interface BreakerSettings {
  BreakerFailures: number;
  BreakerSeconds: number;
}

/** How long a step is parked while another step's probe decides whether the provider is back. */
const PROBE_WAIT_MS = 5_000;

interface Entry {
  policy: CircuitBreakerPolicy;
  openedAt: number;
  openMs: number;
}

export class ProviderBreakers {
  private readonly entries = new Map<string, Entry>();

  /** Runs `call` through the breaker of `tenantId`'s `provider`. */
  async run<T>(
    key: { tenantId: string; provider: string },
    settings: BreakerSettings,
    call: () => Promise<T>,
  ): Promise<T> {
    const entry = this.entryOf(key, settings);
    const name = `${key.provider} of tenant ${key.tenantId}`;
    const state = entry.policy.state;
    if (state === CircuitState.Open) {
      const remaining = entry.openedAt + entry.openMs - Date.now();
      if (remaining > 0) {
        throw new BreakerOpenFailure(
          `the circuit of ${name} is open after ${settings.BreakerFailures} consecutive failures; next probe in ${Math.ceil(remaining / 1000)} s`,
          remaining,
        );
      }
    } else if (state === CircuitState.HalfOpen) {
      throw new BreakerOpenFailure(
        `a probe of ${name} is deciding whether it is back`,
        Math.min(PROBE_WAIT_MS, entry.openMs),
      );
    }
    return entry.policy.execute(call);
  }

  /** The state of a tenant's provider, for tests and diagnostics. */
  stateOf(key: { tenantId: string; provider: string }): 'closed' | 'open' | 'half-open' {
    const state = this.entries.get(keyOf(key))?.policy.state ?? CircuitState.Closed;
    return state === CircuitState.Open ? 'open' : state === CircuitState.HalfOpen ? 'half-open' : 'closed';
  }

  private entryOf(key: { tenantId: string; provider: string }, settings: BreakerSettings): Entry {
    const id = keyOf(key);
    const found = this.entries.get(id);
    if (found) return found;
    const openMs = settings.BreakerSeconds * 1000;
    const policy = circuitBreaker(
      handleWhen((error) => error instanceof StepFailure && error.kind === 'transient'),
      { halfOpenAfter: openMs, breaker: new ConsecutiveBreaker(settings.BreakerFailures) },
    );
    const entry: Entry = { policy, openedAt: 0, openMs };
    policy.onBreak(() => {
      entry.openedAt = Date.now();
    });
    this.entries.set(id, entry);
    return entry;
  }
}

function keyOf(key: { tenantId: string; provider: string }): string {
  return `${key.tenantId}\u0000${key.provider}`;
}
