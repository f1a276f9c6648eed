/** Signed webhook deliveries over real HTTP, as GitHub and Jira send them. */
import { randomUUID } from 'node:crypto';
import { signatureOf } from '../../src/webhooks/signature.js';

export interface DeliveryOptions {
  /** GitHub's `X-GitHub-Event` */
  event?: string;
  /** `X-GitHub-Delivery` / `x-atlassian-webhook-identifier`; default: a new one */
  delivery?: string | null;
  /** the secret signing the body; null: no signature header */
  secret?: string | null;
  /** a signature header as given, instead of one computed */
  signature?: string;
  contentType?: string;
  /** the body as sent, instead of the payload's JSON */
  raw?: string | Buffer;
}

export interface DeliveryAnswer {
  status: number;
  body: Record<string, unknown>;
}

export async function deliver(
  base: string,
  system: 'github' | 'jira',
  tenantId: string,
  payload: unknown,
  o: DeliveryOptions = {},
): Promise<DeliveryAnswer> {
  const body = o.raw ?? JSON.stringify(payload);
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/json' };
  const signatureHeader = system === 'github' ? 'x-hub-signature-256' : 'x-hub-signature';
  if (o.signature !== undefined) headers[signatureHeader] = o.signature;
  else if (o.secret) headers[signatureHeader] = signatureOf(o.secret, bytes);
  const delivery = o.delivery === undefined ? randomUUID() : o.delivery;
  if (system === 'github') {
    headers['user-agent'] = 'GitHub-Hookshot/abc1234';
    if (o.event) headers['x-github-event'] = o.event;
    if (delivery !== null) headers['x-github-delivery'] = delivery;
  } else if (delivery !== null) {
    headers['x-atlassian-webhook-identifier'] = delivery;
  }
  const response = await fetch(`${base}/v1/webhooks/${system}/${encodeURIComponent(tenantId)}`, {
    method: 'POST',
    headers,
    body: bytes,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
