/**
 * Browser requests from other sites, refused with 403 `forbidden_origin` before anything else is looked at — the
 * token included, so that the refusal does not depend on whether one is configured (see docs/security.md).
 *
 * - `Origin`: a browser sends it on every cross-site request that could change something (any POST, any
 *   cross-origin fetch or EventSource). It must be the worker's own origin — `http://` plus the request's
 *   `Host`, which is what a page served by the worker itself sends — or be listed in `Http.AllowedOrigins`.
 *   Requests without it (the CLI, services, probes) pass.
 * - `Host`: DNS rebinding points a name the attacker controls at 127.0.0.1, making the attacker's page
 *   same-origin with the worker; its requests then carry no foreign `Origin`, but they do carry the attacker's
 *   name as `Host`. So the host (without port, case-insensitive) must be the bound address, `localhost`, its
 *   loopback forms `127.0.0.1` / `[::1]` when bound to loopback, or be listed in `Http.AllowedHosts` (a
 *   proxy's public name). Bound to every interface (`0.0.0.0`, `::`), the machine's own addresses cannot all be
 *   known, so any IP literal passes: rebinding needs a name, never an address. The probes are exempt: a
 *   Kubernetes probe sends the pod's IP or a name of the cluster as `Host`, and they only read.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { sendError } from './errors.js';
import { canonicalHostName, canonicalOrigin, isIpLiteral, parseHost } from './hostNames.js';

export type OriginPolicyConfig = Pick<Config['Http'], 'Host' | 'AllowedOrigins' | 'AllowedHosts'>;

export interface OriginRequest {
  host: string | undefined;
  origin: string | undefined;
  /** a probe route: exempt from the Host check */
  probe: boolean;
}

export interface OriginPolicy {
  /** why the request is refused, or undefined when it may proceed */
  refusal(request: OriginRequest): string | undefined;
}

const ALL_INTERFACES = new Set(['0.0.0.0', '[::]']);
const LOOPBACK_FORMS = ['localhost', '127.0.0.1', '[::1]'];

function isLoopbackName(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

export function createOriginPolicy(config: OriginPolicyConfig): OriginPolicy {
  const bound = canonicalHostName(config.Host) ?? config.Host.toLowerCase();
  const anyAddress = ALL_INTERFACES.has(bound);
  const hosts = new Set<string>([bound, 'localhost', ...config.AllowedHosts]);
  if (isLoopbackName(bound)) for (const name of LOOPBACK_FORMS) hosts.add(name);
  const origins = new Set(config.AllowedOrigins);

  return {
    refusal({ host, origin, probe }) {
      // HTTP/1.0 may omit Host; browsers never do, so a request without one is not a rebinding attempt.
      const parsed = host === undefined ? undefined : parseHost(host);
      if (host !== undefined && !probe) {
        if (!parsed) return 'the Host header is malformed';
        const known = hosts.has(parsed.hostname) || (anyAddress && isIpLiteral(parsed.hostname));
        if (!known) {
          return `Host "${parsed.hostname}" is not an address of this worker; a proxy's public name belongs in Http.AllowedHosts`;
        }
      }
      if (origin === undefined) return undefined;
      const canonical = canonicalOrigin(origin);
      if (canonical !== undefined && (canonical === parsed?.origin || origins.has(canonical)))
        return undefined;
      return `Origin "${origin}" is not this worker's; a trusted origin belongs in Http.AllowedOrigins`;
    },
  };
}

/** The `onRequest` hook applying `policy`; `isProbe` tells the probe routes (matched route pattern) apart. */
export function refuseForeignOrigins(policy: OriginPolicy, isProbe: (request: FastifyRequest) => boolean) {
  return async function foreignOrigin(request: FastifyRequest, reply: FastifyReply) {
    const { host, origin } = request.headers;
    const reason = policy.refusal({ host, origin, probe: isProbe(request) });
    if (reason === undefined) return;
    request.log.info({ host, origin }, 'request refused: foreign origin or host');
    return sendError(reply, { statusCode: 403, code: 'forbidden_origin', message: reason });
  };
}
