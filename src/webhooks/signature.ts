/**
 * Webhook signatures: `sha256=<hex HMAC-SHA256 of the raw body, keyed by the tenant's webhook secret>` — GitHub's
 * `X-Hub-Signature-256`, and the `x-hub-signature` of a Jira webhook registered with a secret. Computed over the
 * bytes as they arrived (a body parsed and serialised again would not match), compared in constant time.
 *
 * ```ts
 * const header = signatureOf(secret, body);          // 'sha256=5c1f…'
 * verifySignature(secret, body, request.headers['x-hub-signature-256']); // true
 * ```
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/** The header value a sender computes for `body`. */
export function signatureOf(secret: string, body: Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Whether `header` is the signature of `body` under `secret`. A missing, repeated or malformed header is false.
 * Both sides are 32 bytes once decoded, so `timingSafeEqual` compares them whole: the time taken says nothing
 * about how many bytes of a guess were right.
 */
export function verifySignature(
  secret: string,
  body: Uint8Array,
  header: string | string[] | undefined,
): boolean {
  if (typeof header !== 'string') return false;
  const given = SIGNATURE.exec(header.trim())?.[1];
  if (given === undefined) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}
