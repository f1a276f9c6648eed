/**
 * The ids of the inputs a tracker causes, derived from what the tracker names, so that the same thing seen twice
 * — a redelivery, or a comment read by both its webhook and the poller — is the same input, with one effect:
 *
 * - a start: the execution id, a UUID (version 5, RFC 9562) of (tenant, system, delivery id);
 * - a resume: the `eventId` `github-comment-<id>` / `jira-comment-<id>`, from the COMMENT, not the delivery (the
 *   poller has no delivery);
 * - a reply: the idempotency key of the worker's answer to a comment, from the comment too.
 */
import { createHash } from 'node:crypto';
import type { TrackerSystem } from '../integrations/trackers/tracker.js';

/** Fixed and arbitrary: the namespace of execution ids started by tracker deliveries. */
const DELIVERY_NAMESPACE = Buffer.from('7f0c2c8e5b9a4d21a3c6e1f04b2d9e57', 'hex');

/** A name-based UUID (version 5: SHA-1 of namespace and name), in lower case. */
export function uuidV5(name: string, namespace: Uint8Array = DELIVERY_NAMESPACE): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The execution a start delivery creates. The parts are joined by NUL, which none of them can hold. */
export function startExecutionId(tenantId: string, system: TrackerSystem, deliveryId: string): string {
  return uuidV5(`${tenantId}\u0000${system}\u0000${deliveryId}`);
}

/** The resume's `eventId` for a comment: the inbox key that makes the webhook's and the poller's one input. */
export function commentEventId(system: TrackerSystem, commentId: string): string {
  return `${system}-comment-${commentId}`;
}

/** The idempotency key of the worker's one reply to a comment. */
export function replyKey(system: TrackerSystem, commentId: string): string {
  return `reply-to-${system}-comment-${commentId}`;
}
