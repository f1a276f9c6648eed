/**
 * Inputs an attacker on the same network sends through the HTTP API, each a reproduction of a hole: one
 * tenant's input taking the id another execution's input needs, values the database cannot store, repository
 * URLs that carry credentials or run commands, ids in upper case. Every one is answered (never a 500) and
 * changes nothing it must not.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';
import { startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

interface Answer {
  status: number;
  body: { executionId?: string; status?: string; error?: { code: string; message: string } };
}

describe('hostile inputs over HTTP', () => {
  let cluster: TestCluster;
  let strict: TestCluster;
  let base: string;
  let strictBase: string;

  async function call(url: string, method: string, path: string, body?: unknown): Promise<Answer> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }
  const api = (method: string, path: string, body?: unknown) => call(base, method, path, body);

  /** A `gate` execution of `tenantId`, suspended at its wait. */
  async function suspended(tenantId: string): Promise<string> {
    const executionId = randomUUID();
    const started = await api('POST', '/v1/executions', { ...startBody('gate', { executionId }), tenantId });
    expect(started.status).toBe(202);
    await waitForStatus(cluster.workers[0]!, executionId, ['suspended']);
    return executionId;
  }

  const answers = (tenantId: string, eventId: string) => ({
    eventId,
    tenantId,
    type: 'answers_received',
    answers: { q1: 'yes' },
  });

  beforeAll(async () => {
    const runs: { key: string; executionId: string }[] = [];
    const options = { graphs: [gateGraph()], agents: recordingAgents(['before', 'after'], runs) };
    cluster = await startCluster(0, options);
    base = (await cluster.add({ ...options, http: true })).url!;
    strict = await startCluster(0, options);
    strictBase = (
      await strict.add({ ...options, http: true, config: { AgentHost: { AllowLocalRepositories: false } } })
    ).url!;
  });
  afterAll(async () => {
    await cluster?.cleanup();
    await strict?.cleanup();
  });

  describe("one execution's input never takes the id of another's", () => {
    it("a resume whose eventId is `cancel:<another execution>` leaves that execution's cancel working", async () => {
      const victim = await suspended('acme');
      const evil = await suspended('evil');
      const taken = await api('POST', `/v1/executions/${evil}/events`, answers('evil', `cancel:${victim}`));
      expect(taken.status).toBe(202);

      const cancel = await api('POST', `/v1/executions/${victim}/cancel`, { tenantId: 'acme', reason: 'x' });
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
      expect((await api('GET', `/v1/executions/${victim}`)).body.status).toBe('cancelled');
      // and the same cancel again is the idempotent 200, not a key violation
      const again = await api('POST', `/v1/executions/${victim}/cancel`, { tenantId: 'acme', reason: 'x' });
      expect(again.status).toBe(200);
    });

    it('a resume whose eventId is a UUID leaves a later start with that executionId working', async () => {
      const own = await suspended('evil');
      const future = randomUUID();
      expect((await api('POST', `/v1/executions/${own}/events`, answers('evil', future))).status).toBe(202);

      const started = await api('POST', '/v1/executions', startBody('gate', { executionId: future }));
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      await waitForStatus(cluster.workers[0]!, future, ['suspended']);
    });

    it("an eventId another execution used is accepted for its own execution's resume", async () => {
      const first = await suspended('evil');
      const second = await suspended('acme');
      const eventId = randomUUID();
      expect((await api('POST', `/v1/executions/${first}/events`, answers('evil', eventId))).status).toBe(
        202,
      );

      const owner = await api('POST', `/v1/executions/${second}/events`, answers('acme', eventId));
      expect(owner.status, JSON.stringify(owner.body)).toBe(202);
      await waitForStatus(cluster.workers[0]!, second, ['completed']);
    });
  });

  describe('values the database cannot store are refused with 400 naming the field', () => {
    let nested: unknown = 'leaf';
    for (let i = 0; i < 4000; i++) nested = { n: nested };
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a NUL in tenantId', { tenantId: 'poison\u0000' }, /tenantId: contains a NUL/],
      [
        'a lone surrogate in the title',
        { ticket: { key: 'T-1', title: 'x\ud800y' } },
        /ticket\.title: .*surrogate/,
      ],
      ['a lone low surrogate in a key of input', { input: { '\udc00': 1 } }, /input: has a key .*surrogate/],
      ['JSON nested 4,000 levels deep', { input: { deep: nested } }, /input\.deep(\.n)+: is nested deeper/],
    ];
    for (const [what, fields, reason] of cases) {
      it(what, async () => {
        const executionId = randomUUID();
        const answer = await api('POST', '/v1/executions', {
          ...startBody('gate', { executionId }),
          ...fields,
        });
        expect(answer.status, JSON.stringify(answer.body)).toBe(400);
        expect(answer.body.error?.message).toMatch(reason);
        expect((await api('GET', `/v1/executions/${executionId}`)).status).toBe(404);
      });
    }

    it('a number out of range is refused, not stored as null', async () => {
      const text = JSON.stringify(startBody('gate', { executionId: randomUUID() })).replace(
        /}$/,
        ',"input":{"big":1e400}}',
      );
      const answer = await api('POST', '/v1/executions', text);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.message).toMatch(/input\.big: is not a finite number/);
    });

    it('a resume and a cancel with a NUL are refused too', async () => {
      const id = await suspended('acme');
      const resume = await api('POST', `/v1/executions/${id}/events`, {
        ...answers('acme', randomUUID()),
        answers: { q1: 'a\u0000b' },
      });
      expect(resume.status).toBe(400);
      expect(resume.body.error?.message).toMatch(/answers\.q1: contains a NUL/);
      const cancel = await api('POST', `/v1/executions/${id}/cancel`, { tenantId: 'acme', reason: '\u0000' });
      expect(cancel.status).toBe(400);
      expect((await api('GET', `/v1/executions/${id}`)).body.status).toBe('suspended');
    });
  });

  describe('repository URLs are checked at intake', () => {
    const refused: [string, string, RegExp][] = [
      ['credentials', 'https://user:s3cretPass@example.com/repo.git', /credentials/],
      ['a token as user', 'https://ghp_abcdefgh@example.com/repo.git', /credentials/],
      ['a remote helper', 'ext::sh -c touch% /tmp/pwned', /remote helper/],
      ['an option', '--upload-pack=touch /tmp/pwned', /option/],
      ['an unknown scheme', 'foo://x/y', /scheme "foo:"/],
      ['a relative path', 'repos/../../etc', /relative path/],
    ];
    for (const [what, url, reason] of refused) {
      it(`refuses ${what} with 400 naming repository.url, and stores nothing`, async () => {
        const executionId = randomUUID();
        const answer = await api('POST', '/v1/executions', {
          ...startBody('gate', { executionId }),
          repository: { url },
        });
        expect(answer.status).toBe(400);
        expect(answer.body.error?.message).toMatch(/repository\.url/);
        expect(answer.body.error?.message).toMatch(reason);
        expect(answer.body.error?.message).not.toContain('s3cretPass');
        expect((await api('GET', `/v1/executions/${executionId}`)).status).toBe(404);
      });
    }

    it('takes ssh and scp-like URLs with a user name, and local paths by default', async () => {
      for (const url of [
        'ssh://git@example.com/org/repo.git',
        'git@example.com:org/repo.git',
        '/srv/git/repo',
      ]) {
        const answer = await api('POST', '/v1/executions', {
          ...startBody('gate', { executionId: randomUUID() }),
          repository: { url },
        });
        expect(answer.status, url).toBe(202);
      }
    });

    it('refuses local paths and file URLs when AgentHost.AllowLocalRepositories is false', async () => {
      for (const url of ['/srv/git/repo', 'file:///srv/git/repo']) {
        const answer = await call(strictBase, 'POST', '/v1/executions', {
          ...startBody('gate', { executionId: randomUUID() }),
          repository: { url },
        });
        expect(answer.status, url).toBe(400);
        expect(answer.body.error?.message).toMatch(/AllowLocalRepositories/);
      }
      const remote = await call(strictBase, 'POST', '/v1/executions', {
        ...startBody('gate', { executionId: randomUUID() }),
        repository: { url: 'https://example.com/org/repo.git' },
      });
      expect(remote.status).toBe(202);
    });
  });

  describe('execution ids are one id in any case', () => {
    it('a cancel in upper case, then the same in lower case, is the idempotent 200', async () => {
      const id = await suspended('acme');
      const upper = await api('POST', `/v1/executions/${id.toUpperCase()}/cancel`, {
        tenantId: 'acme',
        reason: 'done',
      });
      expect(upper.status).toBe(202);
      expect(upper.body.executionId).toBe(id);
      const lower = await api('POST', `/v1/executions/${id}/cancel`, { tenantId: 'acme', reason: 'done' });
      expect(lower.status, JSON.stringify(lower.body)).toBe(200);
    });

    it('a start with an upper-case executionId is stored, found and repeated under its lower-case id', async () => {
      const id = randomUUID();
      const first = await api('POST', '/v1/executions', startBody('gate', { executionId: id.toUpperCase() }));
      expect(first.status).toBe(202);
      expect(first.body.executionId).toBe(id);
      expect((await api('POST', '/v1/executions', startBody('gate', { executionId: id }))).status).toBe(200);
      expect((await api('GET', `/v1/executions/${id.toUpperCase()}`)).body.executionId).toBe(id);
    });
  });
});
