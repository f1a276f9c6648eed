import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeWorker, runCli } from './fake-worker.js';

const ID = '0b7e3c1a-2f4d-4a6b-9c8d-1e2f3a4b5c6d';

describe('prfactory-worker submit', () => {
  let worker: FakeWorker;
  beforeEach(async () => {
    worker = await new FakeWorker().start();
    worker.answer('POST /v1/executions', 202, { executionId: ID, status: 'pending' });
  });
  afterEach(() => worker.stop());

  it('posts the start request and prints the execution id alone on stdout', async () => {
    const result = await runCli([
      'submit',
      'prfactory',
      '--tenant',
      'acme',
      '--ticket',
      'PROJ-1',
      '--title',
      'Add X',
      '--description',
      'Longer text',
      '--ticket-url',
      'https://tickets/PROJ-1',
      '--repo',
      'https://git.example/repo.git',
      '--default-branch',
      'trunk',
      '--priority',
      '7',
      '--input',
      '{"plan":"# Plan"}',
      '--url',
      worker.url,
      '--token',
      'tok-1',
    ]);
    expect(result).toEqual({ code: 0, stdout: `${ID}\n`, stderr: '' });
    expect(worker.last).toMatchObject({
      method: 'POST',
      path: '/v1/executions',
      body: {
        graph: 'prfactory',
        tenantId: 'acme',
        ticket: { key: 'PROJ-1', title: 'Add X', description: 'Longer text', url: 'https://tickets/PROJ-1' },
        repository: { url: 'https://git.example/repo.git', defaultBranch: 'trunk' },
        priority: 7,
        input: { plan: '# Plan' },
      },
    });
    expect(worker.last?.headers.authorization).toBe('Bearer tok-1');
    // a worker refuses a body of any other type (415) and requests from a foreign Origin (403)
    expect(worker.last?.headers['content-type']).toBe('application/json');
    expect(worker.last?.headers.origin).toBeUndefined();
  });

  it('sends only what was given, makes a relative repository path absolute, and reads PRFACTORY_URL/TOKEN', async () => {
    const result = await runCli(
      ['submit', 'refinement', '--tenant', 'acme', '--ticket', 'P-2', '--repo', '../repo'],
      { PRFACTORY_URL: worker.url, PRFACTORY_TOKEN: 'from-env' },
      { cwd: '/srv/work' },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${ID}\n`);
    expect(worker.last?.body).toEqual({
      graph: 'refinement',
      tenantId: 'acme',
      ticket: { key: 'P-2' },
      repository: { url: '/srv/repo' },
    });
    expect(worker.last?.headers.authorization).toBe('Bearer from-env');
  });

  it('notes on stderr when the execution had been submitted before (200)', async () => {
    worker.answer('POST /v1/executions', 200, { executionId: ID, status: 'running' });
    const result = await runCli([
      'submit',
      'planning',
      '--tenant',
      'acme',
      '--ticket',
      'P-3',
      '--repo',
      'file:///r',
      '--execution-id',
      ID,
      '--url',
      worker.url,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${ID}\n`);
    expect(result.stderr).toContain('submitted before');
    expect(worker.last?.body).toMatchObject({ executionId: ID });
  });

  it.each([
    [['--ticket', 'P', '--repo', 'r'], '--tenant'],
    [['--tenant', 'a', '--repo', 'r'], '--ticket'],
    [['--tenant', 'a', '--ticket', 'P'], '--repo'],
    [['--tenant', 'a', '--ticket', 'P', '--repo', 'r', '--priority', '101'], '--priority'],
    [['--tenant', 'a', '--ticket', 'P', '--repo', 'r', '--priority', 'high'], '--priority'],
    [['--tenant', 'a', '--ticket', 'P', '--repo', 'r', '--input', '{nope'], '--input'],
    [['--tenant', 'a', '--ticket', 'P', '--repo', 'r', '--input', '[1,2]'], '--input'],
    [['--tenant', 'a', '--ticket', 'P', '--repo', 'r', '--url', 'not a url'], '--url'],
    [['--tenant', 'a', '--ticket', 'P', '--repo', 'r', '--url', 'ftp://host'], '--url'],
  ])('exits 2 naming the argument for %j', async (args, argument) => {
    const result = await runCli([
      'submit',
      'prfactory',
      ...args,
      ...(args.includes('--url') ? [] : ['--url', worker.url]),
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(argument);
    expect(worker.requests).toEqual([]);
  });

  it('exits 1 with the server’s code and message when the worker refuses', async () => {
    worker.answer('POST /v1/executions', 400, {
      error: { code: 'unknown_graph', message: 'unknown graph nope' },
    });
    const result = await runCli([
      'submit',
      'nope',
      '--tenant',
      'a',
      '--ticket',
      'P',
      '--repo',
      'r',
      '--url',
      worker.url,
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('400 unknown_graph: unknown graph nope');
    expect(result.stderr).toContain(worker.url);
  });

  it('exits 1 naming the URL, without the token, when the worker is unreachable', async () => {
    const url = worker.url;
    await worker.stop();
    const result = await runCli(
      ['submit', 'prfactory', '--tenant', 'a', '--ticket', 'P', '--repo', 'r', '--url', url],
      {
        PRFACTORY_TOKEN: 'secret-token',
      },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`cannot reach the worker at ${url}: ECONNREFUSED`);
    expect(result.stderr).not.toContain('secret-token');
    worker = await new FakeWorker().start(); // for afterEach
  });

  it('refuses credentials in --url (exit 2) without printing them', async () => {
    const withCredentials = worker.url.replace('http://', 'http://user:pa55word@');
    const result = await runCli([
      'submit',
      'prfactory',
      '--tenant',
      'a',
      '--ticket',
      'P',
      '--repo',
      'r',
      '--url',
      withCredentials,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--url');
    expect(result.stderr).not.toContain('pa55word');
  });
});

describe('prfactory-worker resume', () => {
  let worker: FakeWorker;
  beforeEach(async () => {
    worker = await new FakeWorker().start();
    worker.answer(`POST /v1/executions/${ID}/events`, 202, { executionId: ID, status: 'pending' });
  });
  afterEach(() => worker.stop());

  it('sends answers with a generated UUID eventId', async () => {
    const result = await runCli([
      'resume',
      ID,
      'answers_received',
      '--tenant',
      'acme',
      '--answers',
      '{"q1":"Postgres","q2":"yes"}',
      '--url',
      worker.url,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('accepted answers_received');
    const body = worker.last?.body as Record<string, unknown>;
    expect(body).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      tenantId: 'acme',
      type: 'answers_received',
      answers: { q1: 'Postgres', q2: 'yes' },
    });
    expect(worker.last?.path).toBe(`/v1/executions/${ID}/events`);
  });

  it('maps --by to approvedBy and keeps --event-id and --comment', async () => {
    const result = await runCli([
      'resume',
      ID,
      'plan_approved',
      '--tenant',
      'acme',
      '--by',
      'ana',
      '--comment',
      'ship it',
      '--event-id',
      'evt-1',
      '--url',
      worker.url,
    ]);
    expect(result.code).toBe(0);
    expect(worker.last?.body).toEqual({
      eventId: 'evt-1',
      tenantId: 'acme',
      type: 'plan_approved',
      approvedBy: 'ana',
      comment: 'ship it',
    });
  });

  it('maps --by to rejectedBy with the reason, defaulting --by to $USER', async () => {
    const result = await runCli(
      ['resume', ID, 'plan_rejected', '--tenant', 'acme', '--reason', 'too big', '--url', worker.url],
      { USER: 'bob' },
    );
    expect(result.code).toBe(0);
    expect(worker.last?.body).toMatchObject({ type: 'plan_rejected', rejectedBy: 'bob', reason: 'too big' });
  });

  it('reports a repeated event (200) as already accepted', async () => {
    worker.answer(`POST /v1/executions/${ID}/events`, 200, { executionId: ID, status: 'running' });
    const result = await runCli([
      'resume',
      ID,
      'plan_approved',
      '--tenant',
      'a',
      '--by',
      'ana',
      '--url',
      worker.url,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('already accepted');
  });

  it.each([
    [['answers_received', '--tenant', 'a'], '--answers'],
    [['answers_received', '--tenant', 'a', '--answers', '{"q1":1}'], '--answers'],
    [['answers_received', '--tenant', 'a', '--answers', 'q1=yes'], '--answers'],
    [['plan_approved', '--tenant', 'a'], '--by'],
    [['plan_approved', '--tenant', 'a', '--by', 'x', '--reason', 'r'], '--reason'],
    [['plan_rejected', '--tenant', 'a', '--by', 'x', '--answers', '{}'], '--answers'],
    [['plan_approved', '--by', 'x'], '--tenant'],
    [['plan_maybe', '--tenant', 'a', '--by', 'x'], 'plan_maybe'],
  ])('exits 2 naming the argument for %j', async (args, argument) => {
    const result = await runCli(['resume', ID, ...args, '--url', worker.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(argument);
    expect(worker.requests).toEqual([]);
  });

  it('exits 1 when the worker answers 409', async () => {
    worker.answer(`POST /v1/executions/${ID}/events`, 409, {
      error: { code: 'not_accepted', message: 'not waiting for plan_approved' },
    });
    const result = await runCli([
      'resume',
      ID,
      'plan_approved',
      '--tenant',
      'a',
      '--by',
      'ana',
      '--url',
      worker.url,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('409 not_accepted: not waiting for plan_approved');
  });
});

describe('prfactory-worker cancel and retry', () => {
  let worker: FakeWorker;
  beforeEach(async () => {
    worker = await new FakeWorker().start();
  });
  afterEach(() => worker.stop());

  it('cancel posts the tenant and reason', async () => {
    worker.answer(`POST /v1/executions/${ID}/cancel`, 202, { executionId: ID, status: 'cancelled' });
    const result = await runCli([
      'cancel',
      ID,
      '--tenant',
      'acme',
      '--reason',
      'obsolete',
      '--url',
      worker.url,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`cancel accepted; execution ${ID} is cancelled\n`);
    expect(worker.last?.body).toEqual({ tenantId: 'acme', reason: 'obsolete' });
    expect(worker.last?.headers['content-type']).toBe('application/json');
    expect(worker.last?.headers.origin).toBeUndefined();
  });

  it('retry posts the tenant; a refusal exits 1', async () => {
    worker.answer(`POST /v1/executions/${ID}/retry`, 409, {
      error: { code: 'conflict', message: 'not failed' },
    });
    const result = await runCli(['retry', ID, '--tenant', 'acme', '--url', worker.url]);
    expect(result.code).toBe(1);
    expect(worker.last).toMatchObject({ path: `/v1/executions/${ID}/retry`, body: { tenantId: 'acme' } });
  });

  it('both need --tenant', async () => {
    expect((await runCli(['cancel', ID, '--url', worker.url])).code).toBe(2);
    expect((await runCli(['retry', ID, '--url', worker.url])).code).toBe(2);
  });
});

describe('prfactory-worker status and list', () => {
  let worker: FakeWorker;
  const execution = {
    executionId: ID,
    graph: 'prfactory',
    graphVersion: 1,
    tenantId: 'acme',
    ticket: { key: 'PROJ-1', system: 'local', title: 'Add X', description: '' },
    repository: { url: 'file:///r', defaultBranch: 'main' },
    status: 'suspended',
    state: 'planning.awaitingApproval',
    priority: 0,
    attempts: 1,
    resumeAttempts: 0,
    waitingFor: ['plan_approved', 'plan_rejected'],
    questions: [
      { id: 'q1', text: 'Which database?' },
      { id: 'q2', text: 'Keep the API?' },
    ],
    plan: { branch: 'prfactory/plan/PROJ-1', markdown: '# Plan' },
    pullRequest: { url: 'https://git.example/pr/1', branch: 'prfactory/PROJ-1' },
    comments: [
      { at: '2026-01-01T00:00:00Z', body: 'questions' },
      { at: '2026-01-01T00:01:00Z', body: 'plan' },
    ],
    lastError: 'git push failed',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:02:00Z',
    history: [],
    usage: {
      total: {
        calls: 3,
        inputTokens: 1200,
        outputTokens: 300,
        cacheReadTokens: 4000,
        cacheWriteTokens: 0,
        costUsd: 0.01234,
      },
      steps: [],
    },
  };
  /** a list item: the summary fields only */
  const summary = {
    executionId: ID,
    graph: 'prfactory',
    graphVersion: 1,
    tenantId: 'acme',
    ticket: { key: 'PROJ-1', system: 'local', title: 'Add X' },
    status: 'suspended',
    state: 'planning.awaitingApproval',
    waitingFor: ['plan_approved', 'plan_rejected'],
    priority: 0,
    attempts: 1,
    lastError: 'git push failed',
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:02:00Z',
  };
  beforeEach(async () => {
    worker = await new FakeWorker().start();
    worker.answer(`GET /v1/executions/${ID}`, 200, execution);
    worker.answer('GET /v1/executions', 200, { items: [summary], nextCursor: 'c2' });
  });
  afterEach(() => worker.stop());

  it('status prints a summary', async () => {
    const result = await runCli(['status', ID, '--url', worker.url]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toContain('status        suspended');
    expect(lines).toContain('state         planning.awaitingApproval');
    expect(lines).toContain('waiting for   plan_approved, plan_rejected');
    expect(lines).toContain('questions     q1  Which database?');
    expect(lines).toContain('              q2  Keep the API?');
    expect(lines).toContain('plan branch   prfactory/plan/PROJ-1');
    expect(lines).toContain('pull request  https://git.example/pr/1');
    expect(lines).toContain('last error    git push failed');
    expect(lines).toContain('usage         3 calls, tokens 1200 in, 300 out, 4000 cache read, $0.0123');
    expect(lines).toContain('comments      2');
  });

  it('status leaves the usage out when nothing was called, or the worker does not report it', async () => {
    worker.answer(`GET /v1/executions/${ID}`, 200, { ...execution, usage: undefined });
    expect((await runCli(['status', ID, '--url', worker.url])).stdout).not.toMatch(/^usage/m);
    const none = {
      total: { calls: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    };
    worker.answer(`GET /v1/executions/${ID}`, 200, { ...execution, usage: { ...none, steps: [] } });
    expect((await runCli(['status', ID, '--url', worker.url])).stdout).not.toMatch(/^usage/m);
  });

  it('status --json prints the API’s JSON', async () => {
    const result = await runCli(['status', ID, '--json', '--url', worker.url]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(execution);
  });

  it('status of an unknown execution exits 1', async () => {
    const result = await runCli(['status', '0b7e3c1a-0000-4a6b-9c8d-1e2f3a4b5c6d', '--url', worker.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('404 not_found');
  });

  it('list sends the filters and prints a table, the next cursor on stderr', async () => {
    const result = await runCli([
      'list',
      '--status',
      'suspended',
      '--graph',
      'prfactory',
      '--tenant',
      'acme',
      '--ticket',
      'PROJ-1',
      '--limit',
      '5',
      '--url',
      worker.url,
    ]);
    expect(result.code).toBe(0);
    expect(worker.last?.query).toEqual({
      status: 'suspended',
      graph: 'prfactory',
      tenantId: 'acme',
      ticketKey: 'PROJ-1',
      limit: '5',
    });
    const [header, row] = result.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual([
      'EXECUTION',
      'GRAPH',
      'TENANT',
      'TICKET',
      'STATUS',
      'STATE',
      'UPDATED',
    ]);
    expect(row?.split(/\s{2,}/)).toEqual([
      ID,
      'prfactory',
      'acme',
      'PROJ-1',
      'suspended',
      'planning.awaitingApproval',
      '2026-01-01T00:02:00Z',
    ]);
    expect(result.stderr).toContain('--cursor c2');
  });

  it('list --json prints { items, nextCursor }', async () => {
    const result = await runCli(['list', '--json', '--url', worker.url]);
    expect(JSON.parse(result.stdout)).toEqual({ items: [summary], nextCursor: 'c2' });
    expect(worker.last?.query).toEqual({});
  });

  it.each([
    [['--status', 'sleeping'], '--status'],
    [['--limit', '0'], '--limit'],
    [['--limit', '500'], '--limit'],
  ])('list exits 2 for %j', async (args, argument) => {
    const result = await runCli(['list', ...args, '--url', worker.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(argument);
  });
});

describe('prfactory-worker help and usage', () => {
  it.each(['submit', 'resume', 'cancel', 'retry', 'status', 'list'])(
    '%s --help prints usage and exits 0',
    async (name) => {
      const result = await runCli([name, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: prfactory-worker ${name}`);
      expect(result.stdout).toContain('--url <url>');
      expect(result.stdout).toContain('--token <token>');
      expect(result.stderr).toBe('');
    },
  );

  it('--help lists the commands; --version prints the version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['submit', 'resume', 'cancel', 'retry', 'status', 'list'])
      expect(help.stdout).toContain(name);
    const version = await runCli(['--version'], {}, { version: '1.2.3' });
    expect(version).toEqual({ code: 0, stdout: '1.2.3\n', stderr: '' });
  });

  it('an unknown command or option exits 2', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    const unknownOption = await runCli(['status', ID, '--colour']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain('--colour');
  });

  it('the token never appears in --help', async () => {
    const result = await runCli(['submit', '--help'], { PRFACTORY_TOKEN: 'secret-token' });
    expect(result.stdout).not.toContain('secret-token');
  });
});
