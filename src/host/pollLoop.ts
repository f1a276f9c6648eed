/**
 * The claim loop's rhythm: a pass on every wake-up (work became claimable), and every `intervalMs` as a safety
 * net, with a wait that a wake-up cuts short. A pass that got all it asked for runs again at once (more may be
 * waiting); a wake-up during a pass makes the next pass start without waiting.
 *
 * ```ts
 * const loop = new PollLoop(5000, () => claimOnce(), log);
 * loop.start();
 * loop.wake();        // a commit made work claimable
 * await loop.stop();  // the pass in flight finishes; none starts after
 * ```
 */
import { errorMessage } from '../errorMessage.js';
import type { Logger } from '../telemetry/logger.js';

export class PollLoop {
  private running = false;
  private wakeRequested = false;
  private sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private done: Promise<void> | undefined;
  private firstPassDone: () => void = () => {};
  /**
   * Resolves after the first pass that succeeded (or when the loop stops before one): the last condition of a
   * worker's readiness, told to systemd as `READY=1` by the `run` command.
   */
  readonly firstPass = new Promise<void>((resolve) => {
    this.firstPassDone = resolve;
  });

  /** @param pass claims once; true when it got all it asked for */
  constructor(
    private readonly intervalMs: number,
    private readonly pass: () => Promise<boolean>,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running = true;
    this.done = this.loop();
  }

  /** Pass now instead of at the next poll. */
  wake(): void {
    this.wakeRequested = true;
    if (this.sleeper) {
      clearTimeout(this.sleeper.timer);
      this.sleeper.resolve();
    }
  }

  /** Starts no pass after the one in flight, and resolves when that one is over. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.done;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.wakeRequested = false;
      let full = false;
      try {
        full = await this.pass();
        this.firstPassDone();
      } catch (error) {
        this.log.warn({ err: errorMessage(error) }, 'claim failed; retried at the next poll');
      }
      if (!this.running) break;
      if (full || this.wakeRequested) continue;
      await new Promise<void>((resolve) => {
        this.sleeper = { timer: setTimeout(resolve, this.intervalMs), resolve };
      });
      this.sleeper = undefined;
    }
    this.firstPassDone(); // stopped before a pass succeeded: nobody waits for readiness forever
  }
}
