/**
 * The worker's one NATS connection: built from `Nats.*` configuration, reconnected forever, watched so that
 * `/readyz` can say whether it is up.
 *
 * Credentials come from `Nats.User`/`Nats.Password`, `Nats.Token` or `Nats.CredsFile`, or else from the URL
 * (`nats://user:pass@host`, `nats://token@host`). A `tls://` URL requires TLS; a `nats://` URL uses TLS when
 * the server offers it. Nothing here logs a credential: servers are named by `redactUrl`.
 */
import { readFileSync } from 'node:fs';
import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { Config } from '../../config.js';
import { errorMessage } from '../../errorMessage.js';
import { redactUrl } from '../../redaction.js';
import type { Logger } from '../../telemetry/logger.js';
import { NatsTransportError } from './errors.js';

export type NatsSettings = Pick<Config['Nats'], 'User' | 'Password' | 'Token' | 'CredsFile'> & {
  Url: string;
};

interface ServerUrl {
  /** `host:port`, what the client dials */
  hostPort: string;
  tls: boolean;
  user?: string;
  password?: string;
}

function parseServer(text: string): ServerUrl {
  const raw = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `nats://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new NatsTransportError('NATS_UNREACHABLE', `Nats.Url: "${redactUrl(raw)}" is not a URL`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'nats' && scheme !== 'tls') {
    throw new NatsTransportError(
      'NATS_UNREACHABLE',
      `Nats.Url: scheme "${scheme}:" is not nats: or tls: (in ${redactUrl(raw)})`,
    );
  }
  const server: ServerUrl = { hostPort: `${url.hostname}:${url.port || '4222'}`, tls: scheme === 'tls' };
  if (url.username) server.user = decodeURIComponent(url.username);
  if (url.password) server.password = decodeURIComponent(url.password);
  return server;
}

/**
 * The client options for `settings` (pure but for reading the creds file). Reconnects never give up: a NATS that
 * goes away for an hour must find its workers again when it returns.
 */
export function connectionOptionsOf(settings: NatsSettings, name: string): NodeConnectionOptions {
  const servers = settings.Url.split(',')
    .filter((s) => s.trim() !== '')
    .map(parseServer);
  if (servers.length === 0) throw new NatsTransportError('NATS_UNREACHABLE', 'Nats.Url names no server');
  const options: NodeConnectionOptions = {
    servers: servers.map((s) => s.hostPort),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    // A server that vanished without closing the socket is noticed within 3 pings (30 s), not the default 4 min.
    pingInterval: 10_000,
    maxPingOut: 3,
    // The wake-up this worker publishes must not wake itself a second time (it woke locally already). Nothing
    // else this connection does listens to its own publishes: JetStream answers come from the server.
    noEcho: true,
    // Without it the client builds two Errors with stack traces for every request, answered or not, to blame the
    // caller if it times out: 4 % of a busy worker's CPU (one JetStream publish per lifecycle event). Our errors
    // name the subject instead.
    noAsyncTraces: true,
  };
  if (servers.some((s) => s.tls)) options.tls = {};
  const fromUrl = servers.find((s) => s.user !== undefined);
  if (settings.CredsFile) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(settings.CredsFile);
    } catch (error) {
      throw new NatsTransportError(
        'NATS_CREDENTIALS',
        `Nats.CredsFile: cannot read ${settings.CredsFile}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    options.authenticator = credsAuthenticator(creds);
  } else if (settings.Token) {
    options.token = settings.Token;
  } else if (settings.User) {
    options.user = settings.User;
    options.pass = settings.Password ?? '';
  } else if (fromUrl?.password !== undefined) {
    options.user = fromUrl.user as string;
    options.pass = fromUrl.password;
  } else if (fromUrl?.user !== undefined) {
    options.token = fromUrl.user;
  }
  return options;
}

/** A connection and what the worker needs to know of it. */
export interface NatsLink {
  readonly nc: NatsConnection;
  /** the servers, without credentials */
  readonly servers: string;
  /** connected now (false while reconnecting, and after close) */
  isConnected(): boolean;
  /** flushes what is buffered (for at most `timeoutMs`) and closes */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Connects, or throws {@link NatsTransportError} `NATS_UNREACHABLE` when the first attempt fails: a worker
 * told to use NATS does not start without it (its streams must exist before it takes inputs). Once connected,
 * losses are reconnected for ever and logged.
 */
export async function connectNats(
  settings: NatsSettings,
  name: string,
  log: Logger,
  overrides: Partial<NodeConnectionOptions> = {},
): Promise<NatsLink> {
  const servers = redactUrl(settings.Url);
  const options = { ...connectionOptionsOf(settings, name), ...overrides };
  let nc: NatsConnection;
  try {
    nc = await connect(options);
  } catch (error) {
    throw new NatsTransportError(
      'NATS_UNREACHABLE',
      `cannot connect to NATS at ${servers}: ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
  let connected = true;
  log.info({ nats: servers, server: nc.getServer() }, 'NATS connected');
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        connected = false;
        log.warn({ nats: servers }, 'NATS connection lost; reconnecting');
      } else if (status.type === 'reconnect') {
        connected = true;
        log.info({ nats: servers, server: nc.getServer() }, 'NATS reconnected');
      } else if (status.type === 'error') {
        log.warn({ nats: servers, err: errorMessage(status.error) }, 'NATS error');
      } else if (status.type === 'close') {
        connected = false;
      }
    }
  })().catch(() => {});
  void nc.closed().then((error) => {
    connected = false;
    if (error) log.error({ nats: servers, err: errorMessage(error) }, 'NATS connection closed with an error');
  });

  return {
    nc,
    servers,
    isConnected: () => connected && !nc.isClosed(),
    async close(timeoutMs = 2000) {
      if (nc.isClosed()) return;
      if (connected) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          nc.drain().catch(() => {}),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
      }
      if (!nc.isClosed()) await nc.close().catch(() => {});
    },
  };
}
