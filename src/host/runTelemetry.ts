/**
 * The telemetry of one run (CONTRACT §8): its `workflow <graph>` span — a child of the input that caused the
 * run, linked to the execution's first run —, an `agent <name>` child span and an `agent.executions` count per
 * step, and the `workflow.*` metrics when the execution starts and ends.
 */
import type { Span } from '@opentelemetry/api';
import type { ExecutionRow } from '../persistence/executions.js';
import type { Telemetry } from '../telemetry/index.js';
import { endWithError, refOf, type SpanRef, startChild, startRun } from '../telemetry/tracing.js';
import type { StepObserver } from './agentRuntime.js';

export class RunTelemetry {
  private readonly span: Span | undefined;

  constructor(
    private readonly telemetry: Telemetry | undefined,
    private readonly row: ExecutionRow,
  ) {
    const tracing = telemetry?.tracing;
    this.span = tracing
      ? startRun(
          tracing.tracer,
          `workflow ${row.graph}`,
          tracing.contextFrom(row.trace_parent),
          {
            'execution.id': row.id,
            'tenant.id': row.tenant_id,
            'ticket.key': String(row.ticket.key ?? ''),
            graph: row.graph,
          },
          row.first_span,
        )
      : undefined;
  }

  /** trace and span ids for the run's log lines */
  logFields(): Record<string, string> {
    if (!this.span) return {};
    const { traceId, spanId } = this.span.spanContext();
    return { traceId, spanId };
  }

  /** this run's span, to be stored as the execution's first when it has none */
  firstSpan(): SpanRef | undefined {
    return this.row.first_span === null && this.span ? refOf(this.span) : undefined;
  }

  stepObserver(): StepObserver | undefined {
    const telemetry = this.telemetry;
    if (!telemetry) return undefined;
    return {
      around: async (agent, run) => {
        const span = this.span
          ? startChild(telemetry.tracing.tracer, `agent ${agent}`, this.span, {
              agent,
              'execution.id': this.row.id,
            })
          : undefined;
        try {
          const result = await run();
          telemetry.metrics.agentExecution(agent, 'completed');
          span?.end();
          return result;
        } catch (error) {
          telemetry.metrics.agentExecution(agent, 'failed');
          if (span) endWithError(span, error instanceof Error ? error.message : String(error));
          throw error;
        }
      },
    };
  }

  started(): void {
    this.telemetry?.metrics.workflowStarted(this.row.graph);
  }

  ended(status: 'completed' | 'failed'): void {
    const seconds = (Date.now() - new Date(this.row.created_at).getTime()) / 1000;
    this.telemetry?.metrics.workflowCompleted(this.row.graph, status, seconds);
  }

  /** Ends the run's span with the run's outcome; an error status when it failed or crashed. */
  finish(outcome: string, error: string | null): void {
    if (!this.span) return;
    this.span.setAttribute('run.outcome', outcome);
    if (outcome === 'failed' || outcome === 'crashed') endWithError(this.span, error ?? outcome);
    else this.span.end();
  }
}
