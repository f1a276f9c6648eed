/** The offline LLM: deterministic, honest about being a stand-in, and producing a real (harmless) change. */
import { describe, expect, it } from 'vitest';
import { createOfflineLlm, OFFLINE_NOTICE } from '../../../src/integrations/llm/offline.js';
import type { Ticket } from '../../../src/machines/domain.js';

const signal = () => new AbortController().signal;
const call = (step: string) => ({ tenantId: 'default', executionId: 'e1', step });
const ticket: Ticket = { key: 'PROJ-42', system: 'local', title: 'Add dark mode', description: '' };
const files = [
  { path: 'README.md', bytes: 120 },
  { path: 'src/app.ts', bytes: 900 },
];

describe('offline LLM', () => {
  const llm = createOfflineLlm();

  it('is named offline and answers the same request the same way', async () => {
    expect(llm.name).toBe('offline');
    const a = await llm.analyseCodebase(
      call('analyseCodebase'),
      { ticket, repository: { files, readme: '# Sample app\n', relevant: [] } },
      signal(),
    );
    const b = await createOfflineLlm().analyseCodebase(
      call('analyseCodebase'),
      { ticket, repository: { files, readme: '# Sample app\n', relevant: [] } },
      signal(),
    );
    expect(a).toEqual(b);
    expect(a.summary.split('\n')[0]).toBe(OFFLINE_NOTICE);
    expect(a.summary).toContain('2 tracked files');
    expect(a.summary).toContain('src/app.ts (900 bytes)');
    expect(a.summary).toContain('# Sample app');
  });

  it('asks two or three questions with ids q1…q3, each marked as offline', async () => {
    const three = await llm.generateQuestions(call('generateQuestions'), { ticket, analysis: 'x' }, signal());
    expect(three.questions.map((q) => q.id)).toEqual(['q1', 'q2', 'q3']);
    const described = { ...ticket, description: 'Users want a dark theme.' };
    const two = await llm.generateQuestions(
      call('generateQuestions'),
      { ticket: described, analysis: 'x' },
      signal(),
    );
    expect(two.questions.map((q) => q.id)).toEqual(['q1', 'q2']);
    for (const question of three.questions) {
      expect(question.text).toMatch(/^\[offline stand-in\] /);
      expect(question.text).toContain('PROJ-42: Add dark mode');
    }
  });

  it('refines the description with the answers', async () => {
    const { questions } = await llm.generateQuestions(
      call('generateQuestions'),
      { ticket, analysis: 'x' },
      signal(),
    );
    const { description } = await llm.refineDescription(
      call('processAnswers'),
      { ticket, analysis: 'x', questions, answers: { q1: 'A dark theme toggle', q2: 'The API' } },
      signal(),
    );
    expect(description.split('\n')[0]).toBe(OFFLINE_NOTICE);
    expect(description).toContain('A dark theme toggle');
    expect(description).toContain('The API');
    expect(description).toContain('(no answer)');
  });

  it('plans per round and addresses every earlier rejection', async () => {
    const first = await llm.generatePlan(
      call('generatePlan'),
      { ticket, description: 'd', round: 0, rejections: [] },
      signal(),
    );
    expect(first.markdown.split('\n')[0]).toBe(OFFLINE_NOTICE);
    expect(first.markdown).toContain('Planning round 0');
    const rejections = [
      { by: 'ana', reason: 'Too vague' },
      { by: 'bo', reason: 'Forgot the tests' },
    ];
    const third = await llm.generatePlan(
      call('generatePlan'),
      { ticket, description: 'd', round: 2, rejections },
      signal(),
    );
    expect(third.markdown).toContain('Planning round 2');
    expect(third.markdown).toContain('ana said: "Too vague"');
    expect(third.markdown).toContain('bo said: "Forgot the tests"');
    expect(third.markdown).not.toEqual(first.markdown);
  });

  it('implements with one documentation file that carries the plan', async () => {
    const plan = '# Plan\n1. Do it';
    const result = await llm.implement(
      call('implement'),
      { ticket: { ...ticket, key: 'PROJ/42 x' }, plan, repository: { files, relevant: [] } },
      signal(),
    );
    expect(Object.keys(result.files)).toEqual(['docs/prfactory/PROJ-42-x.md']);
    const content = result.files['docs/prfactory/PROJ-42-x.md']!;
    expect(content.split('\n')[0]).toBe(OFFLINE_NOTICE);
    expect(content).toContain('1. Do it');
    expect(result.summary.split('\n')[0]).toBe(OFFLINE_NOTICE);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('timeout'));
    await expect(
      llm.generateQuestions(call('generateQuestions'), { ticket, analysis: 'x' }, controller.signal),
    ).rejects.toThrow('timeout');
  });
});
