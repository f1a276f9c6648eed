/**
 * In-memory fake ports for the agents' tests: they keep what was done, honour idempotency keys as the real
 * adapters must, and record every AbortSignal they are handed.
 */
import type { AgentContext } from '../../../src/actors/agent.js';
import { PermanentFailure } from '../../../src/actors/failures.js';
import type { Ports } from '../../../src/actors/ports.js';
import type { WorkflowInput } from '../../../src/machines/domain.js';

export interface FakeWorld {
  ports: Ports;
  comments: { key: string; body: string; ticketKey: string }[];
  commits: {
    branch: string;
    baseCommit: string;
    message: string;
    files: Record<string, string>;
    commit: string;
  }[];
  pullRequests: { key: string; branch: string; title: string; body: string; url: string }[];
  prepared: number;
  signals: AbortSignal[];
  /** what the fake model (and the fake coding agent) writes next */
  implementation: { files: Record<string, string>; summary: string };
  /** what the fake coding agent was asked, one entry a run */
  agentRuns: { step: string; dir: string; plan: string; description?: string }[];
  /** the files each agent workspace holds now, by its folder */
  agentWorkspaces: Map<string, Record<string, string>>;
  autoImplement: boolean;
  /** the refined description each ticket's tracker holds */
  descriptions: Map<string, string>;
  /** pull requests linked to tickets, once per key */
  links: { key: string; ticketKey: string; url: string }[];
  /** what the model review notes on every draft */
  reviewNotes: string[];
}

export function fakeWorld(): FakeWorld {
  const world: FakeWorld = {
    comments: [],
    descriptions: new Map(),
    links: [],
    commits: [],
    pullRequests: [],
    prepared: 0,
    signals: [],
    implementation: { files: { 'src/flag.ts': 'export const flag = true;\n' }, summary: 'Adds the flag.' },
    agentRuns: [],
    agentWorkspaces: new Map(),
    autoImplement: true,
    reviewNotes: [],
    ports: undefined as never,
  };
  const seen = (signal: AbortSignal) => {
    world.signals.push(signal);
    signal.throwIfAborted();
  };
  world.ports = {
    tickets: {
      async postComment(ref, body, key, signal) {
        seen(signal);
        const found = world.comments.findIndex((c) => c.key === key);
        if (found >= 0) return { id: `comment-${found}` };
        world.comments.push({ key, body, ticketKey: ref.ticket.key });
        return { id: `comment-${world.comments.length - 1}` };
      },
      async updateDescription(ref, description, signal) {
        seen(signal);
        world.descriptions.set(ref.ticket.key, description);
      },
      async linkPullRequest(ref, pullRequest, key, signal) {
        seen(signal);
        if (!world.links.some((l) => l.key === key))
          world.links.push({ key, ticketKey: ref.ticket.key, url: pullRequest.url });
      },
      async postedComments() {
        return world.comments.map((c) => ({ at: new Date(0).toISOString(), body: c.body }));
      },
    },
    git: {
      async prepare(_owner, _repository, signal) {
        seen(signal);
        world.prepared++;
        return { baseCommit: 'head0', workspace: { dir: '/tmp/fake' } };
      },
      async checkout(_owner, _repository, _ref, signal) {
        seen(signal);
        return { dir: '/tmp/fake' };
      },
      async listFiles() {
        return [
          { path: 'README.md', bytes: 12 },
          { path: 'src/index.ts', bytes: 40 },
        ];
      },
      async readFile(_workspace, path) {
        return path === 'README.md' ? '# Sample app' : '';
      },
      async agentWorkspace(owner, _repository, _ref, signal) {
        seen(signal);
        const dir = `/tmp/fake-agents/${owner.executionId}/${world.agentWorkspaces.size + 1}`;
        world.agentWorkspaces.set(dir, {});
        return { dir };
      },
      async findKeyedCommit(_owner, _repository, ref, signal) {
        seen(signal);
        const found = world.commits.find(
          (c) => c.branch === ref.branch && c.message.endsWith(`\nPRFactory-Idempotency-Key: ${ref.key}`),
        );
        return found ? { commit: found.commit, message: found.message } : null;
      },
      async commitWorkspace(_owner, _repository, workspace, change, signal) {
        seen(signal);
        const files = world.agentWorkspaces.get(workspace.dir);
        if (files === undefined) throw new Error(`${workspace.dir} is no agent workspace`);
        if (Object.keys(files).length === 0) throw new PermanentFailure('the coding agent changed nothing');
        const trailers = Object.entries(change.trailers).map(([key, value]) => `${key}: ${value}`);
        const message = `${change.message}\n\n${trailers.join('\n')}`;
        const commit = `commit${world.commits.length + 1}`;
        world.commits.push({ branch: change.branch, baseCommit: change.baseCommit, message, files, commit });
        return {
          commit,
          branch: change.branch,
          change: { added: Object.keys(files).sort(), modified: [], deleted: [] },
        };
      },
      async commitAndPush(_owner, _repository, change, signal) {
        seen(signal);
        const same = world.commits.find(
          (c) =>
            c.branch === change.branch &&
            c.message === change.message &&
            JSON.stringify(c.files) === JSON.stringify(change.files),
        );
        if (same) return { commit: same.commit, branch: same.branch };
        const commit = `commit${world.commits.length + 1}`;
        world.commits.push({ ...change, commit });
        return { commit, branch: change.branch };
      },
    },
    llm: {
      name: 'fake',
      async analyseCodebase(_call, req, signal) {
        seen(signal);
        const { files, readme } = req.repository;
        return { summary: `${files.length} files; readme: ${readme ?? 'none'}` };
      },
      async generateQuestions(_call, _req, signal) {
        seen(signal);
        return {
          questions: [
            { id: 'q1', text: 'Which flag?' },
            { id: 'q1', text: 'Default value?' },
            { id: '', text: '   ' },
          ],
        };
      },
      async refineDescription(_call, req, signal) {
        seen(signal);
        return { description: `Refined with ${Object.keys(req.answers).length} answers.` };
      },
      async generatePlan(_call, req, signal) {
        seen(signal);
        return {
          markdown: `# Plan round ${req.round}\n\nRejections: ${req.rejections.map((r) => r.reason).join(', ')}`,
        };
      },
      async reviewPlan(_call, _req, signal) {
        seen(signal);
        return { notes: world.reviewNotes };
      },
      async implement(_call, _req, signal) {
        seen(signal);
        return world.implementation;
      },
    },
    codingAgent: {
      async run(call, req, signal) {
        seen(signal);
        world.agentRuns.push({
          step: call.step,
          dir: req.workspace.dir,
          plan: req.plan,
          ...(req.description !== undefined && { description: req.description }),
        });
        world.agentWorkspaces.set(req.workspace.dir, { ...world.implementation.files });
        return { agent: 'fake', summary: world.implementation.summary, turns: 3, costUsd: 0.25 };
      },
    },
    pullRequests: {
      async open(req, key, signal) {
        seen(signal);
        const found = world.pullRequests.find((p) => p.key === key);
        if (found) return { url: found.url, branch: found.branch };
        const url = `https://example.test/pr/${world.pullRequests.length + 1}`;
        world.pullRequests.push({ key, branch: req.branch, title: req.title, body: req.body, url });
        return { url, branch: req.branch };
      },
    },
    policy: {
      autoImplementAfterPlanApproval: () => world.autoImplement,
    },
  };
  return world;
}

export function agentContext(
  world: FakeWorld,
  signal: AbortSignal = new AbortController().signal,
): AgentContext {
  const log = { info() {}, warn() {}, debug() {} };
  return { ports: world.ports, signal, log };
}

export const step = (over: Partial<WorkflowInput> = {}) => ({
  executionId: '6f1c1f5e-3d0e-4a57-9e57-8d1a3c1b2a10',
  tenantId: 'acme',
  ticket: { key: 'PROJ-7', system: 'local' as const, title: 'Add a flag', description: 'We need a flag.' },
  repository: { url: 'file:///tmp/repo', defaultBranch: 'main' },
  ...over,
});
