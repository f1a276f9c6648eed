import type { SqlFunction } from './index.js';

/**
 * `prfactory_inbox_dropped()`, the trigger `inbox_dropped`: every kept resume that is dropped (not accepted at
 * the wait it reached, or its execution ended or was cancelled first) leaves a refusal notice in `rejections`,
 * written in the transaction that drops it and published to `P.events.rejected` by the outbox relay.
 *
 * Why a trigger: three places drop resumes (a run's write, a cancel, the sweep of executions whose workers kept
 * dying), and a notice each published after its own commit would be lost by a worker that dies, or a NATS that
 * is away, in between. Every path sets `status = 'dropped'` on the inbox row with its reason, so a trigger on
 * that change is the one place no dropping statement can forget.
 *
 * Locks: none of its own; it inserts into `rejections` inside the dropping statement's transaction.
 *
 * The trigger is (re)created with the function (`CREATE OR REPLACE TRIGGER`): it cannot exist before its
 * function, and dropping the function drops it.
 */
export const prfactoryInboxDropped: SqlFunction = {
  name: 'prfactory_inbox_dropped',
  signature: '',
  definition: `
CREATE OR REPLACE FUNCTION prfactory_inbox_dropped() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO rejections (execution_id, message_id, reason)
  VALUES (NEW.execution_id, NEW.id, coalesce(NEW.reason, 'dropped'));
  RETURN NULL;
END
$fn$`,
  attach: [
    `
CREATE OR REPLACE TRIGGER inbox_dropped AFTER UPDATE OF status ON inbox
FOR EACH ROW WHEN (NEW.status = 'dropped' AND OLD.status IS DISTINCT FROM 'dropped')
EXECUTE FUNCTION prfactory_inbox_dropped()`,
  ],
};
