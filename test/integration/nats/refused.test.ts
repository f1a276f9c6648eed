/**
 * 100 inputs that can never succeed, of every kind, interleaved with valid ones: each is terminated once, logged,
 * and announced on `P.events.rejected` with its reason; none holds up the consumer.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RejectedInput } from '../../../src/host/events.js';
import type { NatsNames } from '../../../src/transport/nats/names.js';
import { eventually, waitForNatsExecution } from '../../support/nats.js';
import { capturingLogger, natsClusterPerTest } from '../../support/natsCluster.js';
import { gateGraph, recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';

interface Refusal {
  kind: string;
  subject: string;
  body: unknown;
  raw?: boolean;
  /** published without a Nats-Msg-Id: the notice names its stream sequence */
  noMsgId?: boolean;
  /** its Nats-Msg-Id, when it must fit the payload (default `refused-<n>`) */
  msgId?: string;
  reason: RegExp;
}

/** Every way an input can be refused, for the executions `suspended` (gate, waiting) and `completed`. */
function refusals(names: NatsNames, suspended: string, completed: string): ((n: number) => Refusal)[] {
  const startId = (body: object) => `start:${String((body as { executionId?: unknown }).executionId)}`;
  const resumeId = (subjectId: string, body: { eventId?: unknown }) =>
    `resume:${subjectId}:${String(body.eventId)}`;
  const resume = (executionId: string, extra: Record<string, unknown> = {}) => ({
    eventId: randomUUID(),
    executionId,
    tenantId: 'acme',
    type: 'answers_received',
    answers: { q1: 'x' },
    ...extra,
  });
  return [
    () => ({ kind: 'not JSON', subject: names.start, body: '{"graph": ', raw: true, reason: /not JSON/ }),
    () => ({
      kind: 'not UTF-8',
      subject: names.start,
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      raw: true,
      reason: /not UTF-8/,
    }),
    () => ({ kind: 'JSON but no object', subject: names.start, body: 42, reason: /start request/ }),
    () => {
      const { tenantId: _, ...body } = startBody('steps', { executionId: randomUUID() });
      return { kind: 'schema', subject: names.start, body, msgId: startId(body), reason: /tenantId/ };
    },
    () => {
      const body = startBody('nope', { executionId: randomUUID() });
      return {
        kind: 'unknown graph',
        subject: names.start,
        body,
        msgId: startId(body),
        reason: /unknown graph "nope"/,
      };
    },
    () => {
      const body = startBody('steps', { executionId: randomUUID(), ticket: { key: 'J-1', system: 'jira' } });
      return {
        kind: 'jira without a connection',
        subject: names.start,
        body,
        msgId: startId(body),
        reason: /jira/,
      };
    },
    (n) => ({
      kind: 'start without executionId',
      subject: names.start,
      body: startBody('steps', { ticket: { key: `NOID-${n}` } }),
      noMsgId: true,
      reason: /executionId: required over NATS/,
    }),
    () => {
      const id = randomUUID();
      const body = resume(id);
      return {
        kind: 'unknown execution',
        subject: names.resume(id),
        body,
        msgId: resumeId(id, body),
        reason: /does not exist/,
      };
    },
    () => {
      const body = resume(suspended, { tenantId: 'other' });
      return {
        kind: 'tenant mismatch',
        subject: names.resume(suspended),
        body,
        msgId: resumeId(suspended, body),
        reason: /does not belong to tenant other/,
      };
    },
    () => {
      const body = {
        eventId: randomUUID(),
        executionId: suspended,
        tenantId: 'acme',
        type: 'plan_approved',
        approvedBy: 'ana',
      };
      return {
        kind: 'not accepted in its state',
        subject: names.resume(suspended),
        body,
        msgId: resumeId(suspended, body),
        reason: /waits at .* not plan_approved/,
      };
    },
    () => {
      const body = resume(completed);
      return {
        kind: 'resume of a finished execution',
        subject: names.resume(completed),
        body,
        msgId: resumeId(completed, body),
        reason: /is completed/,
      };
    },
    () => ({
      kind: 'cancel of a finished execution',
      subject: names.cancel(completed),
      body: { executionId: completed, tenantId: 'acme', reason: 'late' },
      noMsgId: true,
      reason: /is completed/,
    }),
    () => {
      const body = resume(completed);
      return {
        kind: 'body and subject disagree',
        subject: names.resume(suspended),
        body,
        msgId: resumeId(suspended, body),
        reason: /differs from/,
      };
    },
    () => ({
      kind: 'Nats-Msg-Id that fits neither form of its payload',
      subject: names.resume(suspended),
      body: resume(suspended),
      reason: /Nats-Msg-Id "refused-\d+" does not fit the message/,
    }),
    () => ({
      kind: 'no such verb',
      subject: `${names.prefix}.executions.${suspended}.retry`,
      body: { tenantId: 'acme' },
      reason: /is none of/,
    }),
    () => ({
      kind: 'id not a UUID',
      subject: names.resume('not-a-uuid'),
      body: resume(suspended),
      reason: /not a UUID/,
    }),
    (n) => ({
      kind: 'start again with other content',
      subject: names.start,
      body: startBody('gate', { executionId: suspended, ticket: { key: `OTHER-${n}` } }),
      // the same (fitting) id each time would be dropped by the broker as a duplicate
      noMsgId: true,
      reason: /exists already with a different request/,
    }),
    () => {
      const { eventId: _, ...body } = resume(suspended);
      return { kind: 'resume without eventId', subject: names.resume(suspended), body, reason: /eventId/ };
    },
    () => ({
      // the schema's reason wins over the id's
      kind: 'unknown resume type',
      subject: names.resume(suspended),
      body: resume(suspended, { type: 'coffee_break' }),
      reason: /resume event/,
    }),
  ];
}

describe('refused NATS inputs', () => {
  const startNats = natsClusterPerTest();

  it('100 malformed or refused messages of every kind are each terminated once and announced, and valid ones interleaved complete', async () => {
    const { logger, lines } = capturingLogger();
    const logged = lines as { msg: string; messageId?: string; reason?: string }[];
    const graceMs = 8000;
    const runs: { key: string; executionId: string }[] = [];
    const { client, cluster } = await startNats(2, {
      graphs: [gateGraph(), stepsGraph('steps', 2)],
      agents: recordingAgents(['before', 'after', 'step1', 'step2'], runs),
      nats: { unknownExecutionGraceMs: graceMs },
      logger,
    });
    const { names } = client;
    const worker = cluster.workers[0]!;

    const suspended = randomUUID();
    const completed = randomUUID();
    await client.publish(names.start, startBody('gate', { executionId: suspended }), { msgId: suspended });
    await client.publish(names.start, startBody('steps', { executionId: completed }), { msgId: completed });
    await waitForNatsExecution(worker, suspended, ['suspended']);
    await waitForNatsExecution(worker, completed, ['completed']);

    const kinds = refusals(names, suspended, completed);
    const expected = new Map<string, Refusal>();
    const valid: string[] = [];
    const publishedAt = Date.now();
    for (let n = 0; n < 100; n++) {
      const refusal = kinds[n % kinds.length]!(n);
      const msgId = refusal.noMsgId ? undefined : (refusal.msgId ?? `refused-${n}`);
      const { seq } = await client.publish(refusal.subject, refusal.body, {
        ...(msgId && { msgId }),
        ...(refusal.raw && { raw: true }),
      });
      expected.set(msgId ?? String(seq), refusal);
      if (n % 5 === 0) {
        const executionId = randomUUID();
        valid.push(executionId);
        await client.publish(names.start, startBody('steps', { executionId }), { msgId: executionId });
      }
    }

    for (const id of valid) await waitForNatsExecution(worker, id, ['completed']);
    const validDoneAt = Date.now();

    const notices = await eventually(
      'every refusal announced',
      async () => {
        const found = await client.rejected();
        return found.length >= 100 ? found : undefined;
      },
      graceMs + 30_000,
      250,
    );
    // nothing is left in the consumer or the (work-queue) stream: nothing is retried for ever
    await eventually('the consumer holds nothing', async () => {
      const info = await client.jsm.consumers.info(names.inboxStream, names.consumer);
      return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
    });
    expect((await client.jsm.streams.info(names.inboxStream)).state.messages).toBe(0);

    expect(notices).toHaveLength(100);
    const byMessageId = new Map<string, RejectedInput>(notices.map((n) => [n.messageId, n]));
    expect([...byMessageId.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [messageId, refusal] of expected) {
      const notice = byMessageId.get(messageId)!;
      expect(notice.subject, refusal.kind).toBe(refusal.subject);
      expect(notice.reason, refusal.kind).toMatch(refusal.reason);
      expect(Number.isNaN(Date.parse(notice.at)), refusal.kind).toBe(false);
    }
    // terminated once: each refusal was logged (and announced) by exactly one worker, exactly once
    const refusedLines = logged.filter((l) => l.msg === 'NATS input refused');
    expect(refusedLines).toHaveLength(100);
    expect(new Set(refusedLines.map((l) => l.messageId)).size).toBe(100);

    // none blocked the consumer: the valid starts completed while the unknown-execution resumes still waited
    const waited = notices.filter((n) => /does not exist/.test(n.reason));
    expect(waited.length).toBeGreaterThan(0);
    expect(Math.min(...waited.map((n) => Date.parse(n.at)))).toBeGreaterThan(validDoneAt);
    expect(validDoneAt - publishedAt).toBeLessThan(graceMs);
    // and the refused inputs changed nothing
    expect((await worker.service.get(suspended)).status).toBe('suspended');
    expect(runs.filter((r) => r.executionId === suspended)).toHaveLength(1);
  });
});
