/** The LLM port on a model: each method's prompt, the tenant's limits, and the answers in the port's shapes. */
import { describe, expect, it } from 'vitest';
import type { RepositoryContext, StepCall } from '../../../../src/actors/ports.js';
import { createModelLlm } from '../../../../src/integrations/llm/modelLlm.js';
import { analysePrompt } from '../../../../src/integrations/llm/prompts/analyse.js';
import type { Ticket } from '../../../../src/machines/domain.js';
import { answer, type ScriptedClient, scriptedClient } from './scriptedClient.js';

const ticket: Ticket = { key: 'PROJ-9', system: 'local', title: 'Dark mode', description: 'Please.' };
const repository: RepositoryContext = {
  files: [{ path: 'src/theme.ts', bytes: 40 }],
  readme: 'R'.repeat(4_000),
  relevant: [{ path: 'src/theme.ts', text: 'export const theme = "light";\n' }],
};
const call = (step: string): StepCall => ({ tenantId: 'acme', executionId: 'e1', step });
const signal = () => new AbortController().signal;

function setUp(client: ScriptedClient) {
  const asked: { calls: StepCall[]; tenants: string[] } = { calls: [], tenants: [] };
  const llm = createModelLlm({
    clientFor: (c) => {
      asked.calls.push(c);
      return client;
    },
    settingsFor: (tenantId) => {
      asked.tenants.push(tenantId);
      return { MaxOutputTokens: 1234, ContextTokens: 300 };
    },
  });
  return { llm, asked };
}

describe('createModelLlm', () => {
  it('asks the step’s client with the prompt, its version and the tenant’s limits', async () => {
    const client = scriptedClient(answer({ summary: 'An analysis.' }));
    const { llm, asked } = setUp(client);
    expect(llm.name).toBe('model');
    await expect(
      llm.analyseCodebase(call('analyseCodebase'), { ticket, repository }, signal()),
    ).resolves.toEqual({
      summary: 'An analysis.',
    });
    expect(asked).toEqual({ calls: [call('analyseCodebase')], tenants: ['acme'] });
    const sent = client.requests[0]!;
    expect(sent.prompt).toBe('analyse@1');
    expect(sent.system).toBe(analysePrompt.system);
    expect(sent.maxOutputTokens).toBe(1234);
    expect(sent.output).toMatchObject({ name: 'codebase_analysis', schema: { type: 'object' } });
    // 300 tokens ≈ 1,200 characters: the 4,000-character README is cut, and the context says so
    expect(sent.context).toContain('[Cut to fit Llm.ContextTokens = 300 tokens');
    expect(sent.messages).toHaveLength(1);
    expect(sent.messages[0]?.content).toContain('<untrusted_ticket>');
  });

  it('answers every method in the port’s shape, under its own prompt', async () => {
    const client = scriptedClient(
      answer({ questions: [{ id: 'q1', text: 'Which pages?' }] }),
      answer({ description: 'Refined.' }),
      answer({ markdown: '# Plan' }),
      answer({ notes: ['No tests.'] }),
      answer({
        files: [
          { path: 'src/theme.ts', content: 'export const theme = "dark";\n' },
          { path: 'test/theme.test.ts', content: 'test\n' },
        ],
        summary: 'Dark by default.',
      }),
    );
    const { llm } = setUp(client);
    expect(
      await llm.generateQuestions(call('generateQuestions'), { ticket, analysis: 'A.' }, signal()),
    ).toEqual({
      questions: [{ id: 'q1', text: 'Which pages?' }],
    });
    expect(
      await llm.refineDescription(
        call('processAnswers'),
        { ticket, analysis: 'A.', questions: [{ id: 'q1', text: 'Which pages?' }], answers: { q1: 'All' } },
        signal(),
      ),
    ).toEqual({ description: 'Refined.' });
    expect(
      await llm.generatePlan(
        call('generatePlan'),
        { ticket, description: 'D.', round: 1, rejections: [] },
        signal(),
      ),
    ).toEqual({ markdown: '# Plan' });
    expect(
      await llm.reviewPlan(call('reviewPlan'), { ticket, description: 'D.', plan: '# Plan' }, signal()),
    ).toEqual({
      notes: ['No tests.'],
    });
    expect(await llm.implement(call('implement'), { ticket, plan: '# Plan', repository }, signal())).toEqual({
      files: { 'src/theme.ts': 'export const theme = "dark";\n', 'test/theme.test.ts': 'test\n' },
      summary: 'Dark by default.',
    });
    expect(client.requests.map((r) => r.prompt)).toEqual([
      'questions@1',
      'refine@1',
      'plan@1',
      'review@1',
      'implement@1',
    ]);
    expect(client.requests.map((r) => r.context !== undefined)).toEqual([false, false, false, false, true]);
  });

  it('clips nothing: a long answer comes back whole', async () => {
    const long = 'x'.repeat(100_000);
    const { llm } = setUp(scriptedClient(answer({ markdown: long })));
    const { markdown } = await llm.generatePlan(
      call('generatePlan'),
      { ticket, description: 'D.', round: 1, rejections: [] },
      signal(),
    );
    expect(markdown).toHaveLength(100_000);
  });
});
