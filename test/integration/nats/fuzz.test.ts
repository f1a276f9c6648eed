/**
 * Property over NATS: 1,000 inputs per schema (start, resume, cancel), schema-shaped with hostile leaves
 * (support/hostileInputs.ts) and published with a fitting, a plain, a foreign or no `Nats-Msg-Id`, reach two
 * real workers. Every one is settled — taken, or refused and announced on `P.events.rejected` — none fails
 * unexpectedly, none is left with the consumer, and the workers take valid work afterwards. The seed is printed
 * (`FUZZ_SEED=<n>` replays a run).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scopedMessageId } from '../../../src/transport/nats/messageIds.js';
import {
  cancelArbitrary,
  fuzzSeed,
  jsonText,
  resumeArbitrary,
  startArbitrary,
  type Targets,
  targetArbitrary,
} from '../../support/hostileInputs.js';
import { eventually, waitForNatsExecution } from '../../support/nats.js';
import { capturingLogger, natsClusterPerTest } from '../../support/natsCluster.js';
import { gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';

const RUNS = 1000;
const GRACE_MS = 2000;

interface Message {
  subject: string;
  text: string;
  msgId?: string;
}

describe('hostile inputs over NATS, by property', () => {
  const startNats = natsClusterPerTest();

  it('1,000 of each kind are each taken or refused and announced; none fails unexpectedly or stays held', async () => {
    const seed = fuzzSeed();
    console.log(`hostile NATS inputs: seed ${seed} (FUZZ_SEED=${seed} replays it)`);
    const { logger, lines } = capturingLogger();
    const logged = lines as { level: number; msg: string; messageId?: string }[];
    const runs: { key: string; executionId: string }[] = [];
    const { client, cluster } = await startNats(2, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], runs),
      config: { AgentHost: { MaxConcurrentExecutions: 20 } },
      nats: { unknownExecutionGraceMs: GRACE_MS },
      logger,
    });
    const { names } = client;
    const worker = cluster.workers[0]!;
    const targets: Targets = { graphs: ['gate'], tenantId: 'acme', executionIds: [] };
    for (let i = 0; i < 20; i++) {
      const executionId = randomUUID();
      await client.publish(names.start, startBody('gate', { executionId }), { msgId: executionId });
      targets.executionIds = [...targets.executionIds, executionId];
    }
    for (const id of targets.executionIds) await waitForNatsExecution(worker, id, ['suspended']);

    // A fitting id, the plain form, one that fits nothing, or none.
    const idFor = (fitting: string | undefined) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(fitting) },
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }).map((s) => `foreign-${s}`) },
      );
    const starts = startArbitrary(targets).chain((body) => {
      const id = typeof body.executionId === 'string' ? body.executionId : undefined;
      const fitting = id && scopedMessageId({ kind: 'start', executionId: id });
      return idFor(fitting).map((msgId): Message => ({ subject: names.start, text: jsonText(body), msgId }));
    });
    const resumes = fc
      .tuple(targetArbitrary(targets), resumeArbitrary(targets))
      .chain(([executionId, body]) => {
        const eventId = typeof body.eventId === 'string' ? body.eventId : undefined;
        const fitting = eventId && scopedMessageId({ kind: 'resume', executionId, eventId });
        return idFor(fitting).map(
          (msgId): Message => ({ subject: names.resume(executionId), text: jsonText(body), msgId }),
        );
      });
    const cancels = fc
      .tuple(targetArbitrary(targets), cancelArbitrary(targets))
      .chain(([executionId, body]) =>
        idFor(scopedMessageId({ kind: 'cancel', executionId })).map(
          (msgId): Message => ({ subject: names.cancel(executionId), text: jsonText(body), msgId }),
        ),
      );
    const messages = [starts, resumes, cancels].flatMap((arbitrary, i) =>
      fc.sample(arbitrary, { seed: seed + i, numRuns: RUNS }),
    );

    let stored = 0;
    for (const m of messages) {
      const ack = await client.publish(m.subject, m.text, { raw: true, ...(m.msgId && { msgId: m.msgId }) });
      if (!ack.duplicate) stored++;
    }

    await eventually(
      'every input settled',
      async () => {
        const info = await client!.jsm.consumers.info(names.inboxStream, names.consumer);
        return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
      },
      GRACE_MS + 120_000,
      250,
    );
    expect((await client.jsm.streams.info(names.inboxStream)).state.messages).toBe(0);
    const unexpected = logged.filter((l) => l.level >= 50);
    expect(unexpected, JSON.stringify(unexpected.slice(0, 3))).toEqual([]);
    // every refusal is announced (notices also announce kept resumes dropped when their execution ended)
    const refusedIds = logged.filter((l) => l.msg === 'NATS input refused').map((l) => String(l.messageId));
    const refused = refusedIds.length;
    const notices = await eventually('every refusal announced', async () => {
      const found = new Set((await client!.rejected()).map((n) => n.messageId));
      return refusedIds.every((id) => found.has(id)) ? found : undefined;
    });
    expect(notices.size).toBeGreaterThanOrEqual(new Set(refusedIds).size);
    console.log(`hostile NATS inputs: ${messages.length} published, ${stored} stored, ${refused} refused`);
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(stored);

    const executionId = randomUUID();
    await client.publish(names.start, startBody('gate', { executionId }), { msgId: executionId });
    for (const w of cluster.workers) expect((await w.service.readiness()).ready).toBe(true);
    await waitForNatsExecution(worker, executionId, ['suspended']);
  });
});
