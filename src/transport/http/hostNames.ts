/**
 * Host names and origins in one canonical form, so that a configured name, a `Host` header and an `Origin`
 * header compare as plain strings: lower case, IPv4 in dotted decimal, IPv6 compressed and in brackets,
 * international names in punycode, the scheme's default port dropped. The WHATWG URL parser does the
 * normalising; a strict syntax check comes first, because the parser would otherwise read `evil@127.0.0.1`
 * as user `evil` at host `127.0.0.1`.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** `name` or `[ipv6]`, then an optional port: no user info, path, query, fragment or whitespace. */
const HOST_SYNTAX = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#@[\]:\\]+)(?::\d{1,5})?$/;

export interface ParsedHost {
  /** without the port: `localhost`, `127.0.0.1`, `[::1]` */
  hostname: string;
  /** `http://` plus the host as sent (port included unless it is 80): the origin of a page served here */
  origin: string;
}

/** A `Host` header's parts, or undefined when it is not a host (`a@b`, `a/b`, `[zz]`…). */
export function parseHost(header: string): ParsedHost | undefined {
  if (!HOST_SYNTAX.test(header)) return undefined;
  try {
    const url = new URL(`http://${header}`);
    return { hostname: url.hostname, origin: url.origin };
  } catch {
    return undefined;
  }
}

/** A configured host name (no port) in canonical form; a bare IPv6 address gets its brackets. */
export function canonicalHostName(name: string): string | undefined {
  const text = name.trim();
  const parsed = parseHost(isIPv6(text) ? `[${text}]` : text);
  // a port (other than 80, which the parser drops) makes it a host, not a host name
  if (!parsed || parsed.origin !== `http://${parsed.hostname}`) return undefined;
  return parsed.hostname;
}

/**
 * An `Origin` header or a configured origin (`scheme://host[:port]`, http or https, nothing after it but an
 * optional `/`) in canonical form; undefined otherwise, `null` (an opaque origin) included.
 */
export function canonicalOrigin(text: string): string | undefined {
  const match = /^(https?):\/\/([^/]*)\/?$/i.exec(text.trim());
  if (!match) return undefined;
  const host = match[2] ?? '';
  if (!HOST_SYNTAX.test(host)) return undefined;
  try {
    return new URL(`${match[1]}://${host}`).origin;
  } catch {
    return undefined;
  }
}

/** True for an IP address in canonical form (`127.0.0.1`, `[::1]`), false for a name. */
export function isIpLiteral(hostname: string): boolean {
  return isIPv4(hostname) || (hostname.startsWith('[') && isIPv6(hostname.slice(1, -1)));
}
