/**
 * A small client of the worker's HTTP API (docs/api.md) on the global `fetch`. Failures are typed: the server
 * said no ({@link WorkerApiError}, with its status and error code) or could not be reached
 * ({@link WorkerUnreachableError}). Messages name the URL without credentials and never the token.
 */
import type { ExecutionDetails, ExecutionSummary, ListQuery } from '../host/service.js';
import type { ExecutionStatus } from '../persistence/schema.js';
import { redactText, redactUrl } from '../redaction.js';

export const DEFAULT_WORKER_URL = 'http://127.0.0.1:8080';
/** Long enough for a worker whose database is slow, short enough that a hung worker does not hang a script. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface WorkerClientOptions {
  /** e.g. `http://127.0.0.1:8080`; a path prefix (behind a proxy) is kept */
  url: string;
  /** sent as `Authorization: Bearer <token>` */
  token?: string | undefined;
  timeoutMs?: number;
}

/** The answer to start, resume, cancel and retry; `httpStatus` 202 for new, 200 for a repeated input. */
export interface AcceptedAnswer {
  executionId: string;
  status: ExecutionStatus;
  httpStatus: number;
}

export interface ExecutionPage {
  items: ExecutionSummary[];
  nextCursor: string | null;
}

/** The worker answered with an error (`{ error: { code, message } }`). */
export class WorkerApiError extends Error {
  override readonly name = 'WorkerApiError';
  constructor(
    readonly url: string,
    readonly status: number,
    /** the server's error code (`not_found`, `conflict`…), or `http_<status>` when it sent none */
    readonly code: string,
    readonly serverMessage: string,
  ) {
    super(`${url} answered ${status} ${code}: ${serverMessage}`);
  }
}

/** The worker could not be reached, or did not answer in time. */
export class WorkerUnreachableError extends Error {
  override readonly name = 'WorkerUnreachableError';
  constructor(
    readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the worker at ${url}: ${reason}`, options);
  }
}

function reasonOf(error: unknown, timeoutMs: number): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const reason = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(error);
  // some fetch errors quote the URL: never print credentials it might carry
  return redactText(reason);
}

export class WorkerClient {
  private readonly base: string;
  private readonly shownUrl: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: WorkerClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.shownUrl = redactUrl(options.url);
    this.token = options.token || undefined;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** `POST /v1/executions` */
  start(body: Record<string, unknown>): Promise<AcceptedAnswer> {
    return this.accepted('/v1/executions', body);
  }

  /** `POST /v1/executions/:id/events` */
  resume(executionId: string, body: Record<string, unknown>): Promise<AcceptedAnswer> {
    return this.accepted(`/v1/executions/${encodeURIComponent(executionId)}/events`, body);
  }

  /** `POST /v1/executions/:id/cancel` */
  cancel(executionId: string, body: Record<string, unknown>): Promise<AcceptedAnswer> {
    return this.accepted(`/v1/executions/${encodeURIComponent(executionId)}/cancel`, body);
  }

  /** `POST /v1/executions/:id/retry` */
  retry(executionId: string, body: Record<string, unknown>): Promise<AcceptedAnswer> {
    return this.accepted(`/v1/executions/${encodeURIComponent(executionId)}/retry`, body);
  }

  /** `GET /v1/executions/:id` */
  async get(executionId: string): Promise<ExecutionDetails> {
    const { body } = await this.request('GET', `/v1/executions/${encodeURIComponent(executionId)}`);
    return body as ExecutionDetails;
  }

  /** `GET /v1/executions?…`, newest first */
  async list(query: ListQuery = {}): Promise<ExecutionPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') params.set(key, String(value));
    }
    const search = params.toString() ? `?${params}` : '';
    const { body } = await this.request('GET', `/v1/executions${search}`);
    return body as ExecutionPage;
  }

  private async accepted(path: string, payload: Record<string, unknown>): Promise<AcceptedAnswer> {
    const { status, body } = await this.request('POST', path, payload);
    const { executionId, status: executionStatus } = body as { executionId: string; status: ExecutionStatus };
    return { executionId, status: executionStatus, httpStatus: status };
  }

  private async request(
    method: string,
    path: string,
    payload?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new WorkerUnreachableError(this.shownUrl, reasonOf(error, this.timeoutMs), { cause: error });
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof error?.code === 'string' ? error.code : `http_${response.status}`;
      const message =
        typeof error?.message === 'string'
          ? error.message
          : response.statusText || text.slice(0, 200) || 'no message';
      throw new WorkerApiError(this.shownUrl, response.status, code, message);
    }
    if (body === undefined || typeof body !== 'object' || body === null) {
      throw new WorkerApiError(
        this.shownUrl,
        response.status,
        'unexpected_answer',
        'the answer is not a JSON object',
      );
    }
    return { status: response.status, body };
  }
}
