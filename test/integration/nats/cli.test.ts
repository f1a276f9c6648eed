/**
 * `submit`, `resume` and `cancel --nats URL`: the command line publishes inputs on JetStream (with
 * `Nats-Msg-Id`) for the workers of `--subject-prefix`, instead of calling one worker's HTTP API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { registerClientCommands } from '../../../src/cli/index.js';
import { createProgram, runProgram } from '../../../src/cli/program.js';
import {
  type NatsTestClient,
  natsConfig,
  natsTestClient,
  TEST_NATS_URL,
  uniquePrefix,
  waitForNatsExecution,
} from '../../support/nats.js';
import { gateGraph, recordingAgents } from '../../support/testGraphs.js';
import { startCluster, type TestCluster } from '../../support/worker.js';

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    cwd: '/work/here',
  };
  const program = createProgram(io);
  registerClientCommands(program, io);
  const code = await runProgram(program, args, io);
  return { code, stdout, stderr };
}

describe('the command line over NATS', () => {
  let cluster: TestCluster | undefined;
  let client: NatsTestClient | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    await client?.cleanup();
    cluster = undefined;
    client = undefined;
  });

  it('submit, resume and cancel publish their inputs with Nats-Msg-Id, and the workers act on them', async () => {
    const prefix = uniquePrefix();
    // first: its cleanup deletes the streams even when the workers fail to start
    client = await natsTestClient(prefix);
    cluster = await startCluster(1, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], []),
      config: natsConfig(prefix),
    });
    const worker = cluster.workers[0]!;
    const nats = ['--nats', TEST_NATS_URL, '--subject-prefix', prefix];
    const submitArgs = [
      'submit',
      'gate',
      '--tenant',
      'acme',
      '--ticket',
      'T-1',
      '--repo',
      '/srv/repo',
      ...nats,
    ];

    const submitted = await cli(submitArgs);
    expect(submitted).toMatchObject({ code: 0, stderr: '' });
    const id = submitted.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const suspended = await waitForNatsExecution(worker, id, ['suspended']);
    expect(suspended.ticket).toMatchObject({ key: 'T-1' });
    expect(suspended.repository).toMatchObject({ url: '/srv/repo' });

    // the executionId is the Nats-Msg-Id: JetStream drops the same submission inside its window
    const again = await cli([...submitArgs, '--execution-id', id]);
    expect(again).toMatchObject({ code: 0, stdout: `${id}\n` });
    expect(again.stderr).toMatch(/published before; JetStream dropped this copy/);

    const resumeArgs = ['resume', id, 'answers_received', '--tenant', 'acme', '--answers', '{"q1":"yes"}'];
    const resumed = await cli([...resumeArgs, '--event-id', 'ev-1', ...nats]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toBe(
      `published answers_received (event ev-1) for execution ${id} on ${prefix}.executions.${id}.resume\n`,
    );
    expect((await cli([...resumeArgs, '--event-id', 'ev-1', ...nats])).stdout).toMatch(/^already published/);
    const done = await waitForNatsExecution(worker, id, ['completed']);
    expect(done.answers).toEqual({ q1: 'yes' });

    const other = (await cli(submitArgs)).stdout.trim();
    await waitForNatsExecution(worker, other, ['suspended']);
    const cancelled = await cli(['cancel', other, '--tenant', 'acme', '--reason', 'not now', ...nats]);
    expect(cancelled).toMatchObject({
      code: 0,
      stdout: `cancel published for execution ${other} on ${prefix}.executions.${other}.cancel\n`,
    });
    expect((await waitForNatsExecution(worker, other, ['cancelled'])).lastError).toMatch(/not now/);
    expect(await client.rejected()).toEqual([]);
  });

  it('refuses bad usage with exit code 2, and a NATS it cannot use with exit code 1, never printing credentials', async () => {
    const submit = ['submit', 'gate', '--tenant', 'acme', '--ticket', 'T-1', '--repo', '/srv/repo'];
    expect((await cli([...submit, '--nats', 'http://127.0.0.1:4222'])).code).toBe(2);
    expect((await cli([...submit, '--subject-prefix', 'x'])).code).toBe(2);
    expect((await cli([...submit, '--nats', TEST_NATS_URL, '--url', 'http://127.0.0.1:8080'])).code).toBe(2);
    expect((await cli([...submit, '--nats', TEST_NATS_URL, '--subject-prefix', 'a..b'])).code).toBe(2);

    const unreachable = await cli([...submit, '--nats', 'nats://ana:s3cret@127.0.0.1:1']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot connect to NATS at nats:\/\/\[redacted\]@127\.0\.0\.1:1/);
    expect(unreachable.stderr).not.toMatch(/s3cret|ana/);

    // no worker ever started with this prefix: no stream takes the subject
    const nobody = await cli([...submit, '--nats', TEST_NATS_URL, '--subject-prefix', uniquePrefix()]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/no JetStream stream takes .*executions\.start/);
  });
});
