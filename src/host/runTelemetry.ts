/**
 * The telemetry of one run: its log lines (with the execution's ids, its state and the trace), its `workflow <graph>` span — a child of the input that caused the
 * run, linked to the execution's first run —, an `agent <name>` child span and an `agent.executions` count per
 * step, and the `workflow.*` metrics when the execution starts and ends.
 */
import { ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api';
import type { ExecutionRow } from '../persistence/executions.js';
import type { Telemetry } from '../telemetry/index.js';
import type { Logger } from '../telemetry/logger.js';
import { endWithError, refOf, type SpanRef, startChild, startRun } from '../telemetry/tracing.js';
import type { StepObserver } from './agentRuntime.js';

export class RunTelemetry {
  private readonly span: Span | undefined;
  private firstSpanStored = false;
  /** the execution's fields without `state`, which changes as it runs */
  private readonly baseLog: Logger;
  /** the logger of the state last asked for, made when a line is first written in that state */
  private stateLog: { state: string | null; log: Logger } | undefined;

  constructor(
    private readonly telemetry: Telemetry | undefined,
    private readonly row: ExecutionRow,
    log: Logger,
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
    const trace = this.span?.spanContext();
    this.baseLog = log.child({
      executionId: row.id,
      tenantId: row.tenant_id,
      graph: row.graph,
      ...(trace && { traceId: trace.traceId, spanId: trace.spanId }),
    });
  }

  /**
   * The run's logger in `state`. Most steps write no log line at all: a child logger per state change cost ~1 %
   * of a busy worker's CPU, so one is made only when a line is written in a new state.
   */
  logAt(state: string | null): Logger {
    if (this.stateLog?.state !== state) {
      this.stateLog = { state, log: state ? this.baseLog.child({ state }) : this.baseLog };
    }
    return this.stateLog.log;
  }

  /** this run's span, to be stored as the execution's first while it has none */
  firstSpan(): SpanRef | undefined {
    return this.firstSpanStored || this.row.first_span !== null || !this.span ? undefined : refOf(this.span);
  }

  /** The execution's first span is stored: later writes need not carry it. */
  storedFirstSpan(): void {
    this.firstSpanStored = true;
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
          const result = await run(span ? trace.setSpan(ROOT_CONTEXT, span) : undefined);
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

  /** Their refusal notices were written with the write that dropped them (rejections); the relay publishes them. */
  droppedResumes(state: string | null, dropped: readonly { id: string; reason: string }[]): void {
    for (const d of dropped)
      this.logAt(state).warn({ eventId: d.id, reason: d.reason }, 'kept resume dropped');
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
