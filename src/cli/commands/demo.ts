/**
 * `prfactory-worker demo`: one ticket end to end on embedded defaults, in a folder of its own (so it never
 * collides with a worker running from ./data): a sample git repository, the `prfactory` graph, its questions
 * answered, its plan approved, its pull request opened. Everything is printed as it happens.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { createSampleRepository, describeBranches } from '../../demo/sampleRepository.js';
import type { LifecycleEvent } from '../../host/events.js';
import { createLogger } from '../../telemetry/logger.js';
import { createWorker } from '../../worker.js';
import type { CliIo } from '../io.js';

export function registerDemoCommand(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description(
      'run a ticket end to end on embedded defaults: questions, answers, plan, approval, pull request',
    )
    .option(
      '--dir <dir>',
      'folder for the demo’s database, repository and logs (default: a new temporary one)',
    )
    .action(async (options: { dir?: string }) => {
      const started = Date.now();
      const dir = options.dir
        ? path.resolve(options.dir)
        : mkdtempSync(path.join(tmpdir(), 'prfactory-demo-'));
      const out = (line = '') => io.stdout.write(`${line}\n`);
      out(`PRFactory demo in ${dir}`);
      const origin = createSampleRepository(dir);
      out(`sample repository: ${origin}`);

      const config = {
        AgentHost: { PollIntervalSeconds: 1, WorkerId: 'demo' },
        Database: { Url: null, DataDirectory: path.join(dir, 'data') },
        Logging: { Level: 'warn' as const, Directory: path.join(dir, 'logs') },
        Workspaces: { Directory: path.join(dir, 'workspaces') },
      };
      const logger = createLogger({
        config: { Level: 'warn', Directory: config.Logging.Directory, RetainDays: 14 },
        destination: { write: (s: string) => io.stderr.write(s) },
      });
      const worker = await createWorker({ config, logger });
      await worker.start();
      const meta = { source: 'library' as const };
      try {
        const { executionId } = await worker.service.start(
          {
            graph: 'prfactory',
            tenantId: 'demo',
            ticket: {
              key: 'DEMO-1',
              system: 'local',
              title: 'Greet people by their preferred name',
              description: 'greet() should accept an optional nickname and prefer it over the full name.',
            },
            repository: { url: origin, defaultBranch: 'main' },
          },
          meta,
        );
        out(`execution ${executionId} started (graph prfactory, ticket DEMO-1)`);
        const final = await new Promise<LifecycleEvent>((resolve, reject) => {
          const off = worker.service.subscribe(executionId, (event) => {
            void onEvent(event).catch((error) => {
              off();
              reject(error);
            });
          });
          const onEvent = async (event: LifecycleEvent) => {
            out(`  [${event.seq}] ${event.kind.padEnd(9)} ${event.state ?? ''}`);
            if (event.kind === 'suspended' && event.questions) {
              out('\nThe agent asks:');
              for (const q of event.questions) out(`  ${q.id}: ${q.text}`);
              const answers = Object.fromEntries(
                event.questions.map((q, i) => [
                  q.id,
                  [
                    'greet(name, nickname) says "Hello, <nickname>!" when a nickname is given.',
                    'The one-argument greet(name) must keep working as it does.',
                    'No further constraints.',
                  ][i] ?? 'No preference.',
                ]),
              );
              out('The ticket’s people answer:');
              for (const [id, text] of Object.entries(answers)) out(`  ${id}: ${text}`);
              out();
              await worker.service.resume(
                executionId,
                { eventId: `${executionId}:answers`, tenantId: 'demo', type: 'answers_received', answers },
                meta,
              );
            } else if (event.kind === 'suspended' && event.plan) {
              out(`\nThe plan (branch ${event.plan.branch}):`);
              for (const line of event.plan.markdown.split('\n')) out(`  | ${line}`);
              out('Ana approves the plan.\n');
              await worker.service.resume(
                executionId,
                {
                  eventId: `${executionId}:approval`,
                  tenantId: 'demo',
                  type: 'plan_approved',
                  approvedBy: 'ana',
                  comment: 'Looks good.',
                },
                meta,
              );
            } else if (['completed', 'failed', 'cancelled'].includes(event.kind)) {
              off();
              resolve(event);
            }
          };
        });
        const execution = await worker.service.get(executionId);
        out();
        if (final.kind !== 'completed')
          throw new Error(`the demo execution ${final.kind}: ${execution.lastError ?? ''}`);
        out(`pull request: ${execution.pullRequest?.url} (branch ${execution.pullRequest?.branch})`);
        out(`comments posted to the ticket: ${execution.comments?.length ?? 0}`);
        out('branches of the sample repository:');
        for (const line of describeBranches(origin)) out(`  ${line}`);
        out(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } finally {
        await worker.stop();
      }
    });
}
