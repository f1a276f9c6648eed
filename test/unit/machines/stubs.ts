/**
 * Stub agents for driving the real machines in tests: every agent key answers with a small fixed output (or
 * an override), and every call is recorded with its input so a test can assert what the machine asked for.
 */
import {
  type Actor,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  fromPromise,
  type PromiseActorLogic,
  type SnapshotFrom,
  waitFor,
} from 'xstate';
import type { AgentInput, AgentKey, AgentOutput } from '../../../src/machines/agent-io.js';
import type { WorkflowInput } from '../../../src/machines/domain.js';

export type StubFn<K extends AgentKey> = (input: AgentInput<K>) => AgentOutput<K> | Promise<AgentOutput<K>>;
export type StubOverrides = { [K in AgentKey]?: StubFn<K> };
export interface Call {
  key: AgentKey;
  input: unknown;
}

export const workflowInput = (over: Partial<WorkflowInput> = {}): WorkflowInput => ({
  executionId: '6f1c1f5e-3d0e-4a57-9e57-8d1a3c1b2a10',
  tenantId: 'acme',
  ticket: { key: 'PROJ-123', system: 'local', title: 'Add a flag', description: 'We need a flag.' },
  repository: { url: 'file:///tmp/repo', defaultBranch: 'main' },
  input: {},
  ...over,
});

const defaults: { [K in AgentKey]: StubFn<K> } = {
  cloneRepository: () => ({ baseCommit: 'base0' }),
  analyseCodebase: () => ({ summary: 'a small codebase' }),
  generateQuestions: () => ({ questions: [{ id: 'q1', text: 'Which flag?' }] }),
  postQuestions: () => ({ commentId: 'c-questions' }),
  processAnswers: () => ({ description: 'refined description' }),
  postRefinedDescription: () => ({ commentId: 'c-refined' }),
  generatePlan: (input) => ({ markdown: `# Plan, round ${input.round}` }),
  reviewPlan: (input) => ({ markdown: input.markdown, notes: [] }),
  commitPlan: (input) => ({
    branch: input.branch,
    commit: `plan${input.round}`,
    baseCommit: input.baseCommit ?? 'head0',
  }),
  postPlan: () => ({ commentId: 'c-plan' }),
  checkPolicy: () => ({ autoImplement: true }),
  implement: (input) => ({
    branch: input.branch,
    commit: 'impl1',
    baseCommit: input.baseCommit ?? 'head0',
    summary: 'added the flag',
  }),
  openPullRequest: (input) => ({ url: 'https://example.test/pr/1', branch: input.branch }),
  postImplementationComment: () => ({ commentId: 'c-impl' }),
};

function stub<K extends AgentKey>(
  key: K,
  fn: StubFn<K>,
  calls: Call[],
): PromiseActorLogic<AgentOutput<K>, AgentInput<K>> {
  return fromPromise<AgentOutput<K>, AgentInput<K>>(async ({ input }) => {
    calls.push({ key, input });
    return fn(input);
  });
}

/** Every agent key as a recording stub; pass the result to `machine.provide({ actors })`. */
export function stubAgents(overrides: StubOverrides = {}, calls: Call[] = []) {
  const pick = <K extends AgentKey>(key: K): StubFn<K> => overrides[key] ?? defaults[key];
  return {
    cloneRepository: stub('cloneRepository', pick('cloneRepository'), calls),
    analyseCodebase: stub('analyseCodebase', pick('analyseCodebase'), calls),
    generateQuestions: stub('generateQuestions', pick('generateQuestions'), calls),
    postQuestions: stub('postQuestions', pick('postQuestions'), calls),
    processAnswers: stub('processAnswers', pick('processAnswers'), calls),
    postRefinedDescription: stub('postRefinedDescription', pick('postRefinedDescription'), calls),
    generatePlan: stub('generatePlan', pick('generatePlan'), calls),
    reviewPlan: stub('reviewPlan', pick('reviewPlan'), calls),
    commitPlan: stub('commitPlan', pick('commitPlan'), calls),
    postPlan: stub('postPlan', pick('postPlan'), calls),
    checkPolicy: stub('checkPolicy', pick('checkPolicy'), calls),
    implement: stub('implement', pick('implement'), calls),
    openPullRequest: stub('openPullRequest', pick('openPullRequest'), calls),
    postImplementationComment: stub('postImplementationComment', pick('postImplementationComment'), calls),
  };
}

/** Waits until the actor settles: in a waiting state or finished (any status but `active` outside a wait). */
export function settled<T extends AnyStateMachine>(actor: Actor<T>): Promise<SnapshotFrom<T>> {
  return waitFor(actor, (s: AnyMachineSnapshot) => s.status !== 'active' || s.hasTag('waiting'), {
    timeout: 2000,
  });
}

/** The state value as the host shows it (docs/nats.md): dotted leaf paths, sorted, joined by `,`. */
export function dotted(value: unknown, prefix = ''): string {
  if (typeof value === 'string') return prefix + value;
  const entries = Object.entries(value as Record<string, unknown>);
  return entries
    .flatMap(([k, v]) => dotted(v, `${prefix}${k}.`).split(','))
    .sort()
    .join(',');
}
