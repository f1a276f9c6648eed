/**
 * systemd's readiness protocol (sd_notify(3)) for a `Type=notify` unit: `READY=1` once the worker serves,
 * `STOPPING=1` when it begins to drain, `STATUS=…` for `systemctl status`. Nothing happens unless the service
 * manager set `NOTIFY_SOCKET`.
 *
 * ```ts
 * const notifier = createSystemdNotifier({ log });
 * await worker.start();
 * await notifier.ready('claiming; HTTP on http://127.0.0.1:8080');
 * // SIGTERM:
 * await notifier.stopping('draining');
 * ```
 *
 * How a message is sent. The socket is an AF_UNIX datagram socket, and Node has none (`net` is stream only).
 * The two known ways are the `unix-dgram` native addon and the `systemd-notify` binary that ships with
 * systemd; this spawns `systemd-notify`, one short process per message (three in a worker's life, 5–10 ms
 * each here), so installing the worker needs no compiler and nothing is rebuilt for a new Node version.
 * The catch is attribution: systemd takes a message only from the unit's main PID unless `NotifyAccess=all`,
 * and `systemd-notify` is a child. Running as root it sends with its parent's (our) credentials; as the
 * unprivileged service user it cannot, so the unit sets `NotifyAccess=all` — and `systemd-notify` waits
 * (`BARRIER=1`) until systemd has processed the message, so the sender still exists when systemd looks up its
 * unit (the race systemd-notify(1) describes). `--pid` also sends `MAINPID=` (this process), which keeps the
 * main PID right if the worker is started through a wrapper.
 */
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

export interface ServiceNotifier {
  /** false when there is no service manager to tell (`NOTIFY_SOCKET` unset): every call resolves at once */
  readonly enabled: boolean;
  /** `READY=1`: start-up is complete */
  ready(status?: string): Promise<void>;
  /** `STOPPING=1`: the worker begins to drain */
  stopping(status?: string): Promise<void>;
  status(text: string): Promise<void>;
  /** resolves when every message sent so far has been handed over (or failed) */
  idle(): Promise<void>;
}

export interface SystemdNotifierOptions {
  /** where `NOTIFY_SOCKET` is read; default: process.env */
  env?: NodeJS.ProcessEnv;
  log?: Pick<Logger, 'warn' | 'debug'>;
  /** the sender; default `systemd-notify` on the PATH */
  command?: string;
  /** one message may take this long (systemd-notify's own barrier gives up after 5 s) */
  timeoutMs?: number;
}

export function createSystemdNotifier(options: SystemdNotifierOptions = {}): ServiceNotifier {
  const env = options.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  const command = options.command ?? 'systemd-notify';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = options.log;
  let queue: Promise<void> = Promise.resolve();
  let warned = false;

  // One message at a time, in order: READY must never overtake STOPPING's predecessor, nor the reverse.
  const send = (fields: Record<string, string>): Promise<void> => {
    if (!socket) return Promise.resolve();
    const args = [`--pid=${process.pid}`, ...Object.entries(fields).map(([k, v]) => `${k}=${oneLine(v)}`)];
    queue = queue.then(
      () =>
        new Promise<void>((resolve) => {
          execFile(
            command,
            args,
            { env: { ...process.env, NOTIFY_SOCKET: socket }, timeout: timeoutMs },
            (error, _stdout, stderr) => {
              if (error) {
                // The service manager then times the start out (TimeoutStartSec) and says why in the journal;
                // the worker itself goes on: a notification is never worth a crash.
                if (!warned)
                  log?.warn(
                    { command, socket, err: stderr.trim() || error.message },
                    'service manager notification failed',
                  );
                warned = true;
              } else log?.debug({ fields: Object.keys(fields) }, 'service manager notified');
              resolve();
            },
          );
        }),
    );
    return queue;
  };

  return {
    enabled: Boolean(socket),
    ready: (status) => send({ READY: '1', ...(status && { STATUS: status }) }),
    stopping: (status) => send({ STOPPING: '1', ...(status && { STATUS: status }) }),
    status: (text) => send({ STATUS: text }),
    idle: () => queue,
  };
}

/** A message is newline-separated `KEY=VALUE` lines: a value must stay on one. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}
