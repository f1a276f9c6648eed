/** A ModelClient that answers from a script and keeps every request, for tests above the wire. */
import type {
  ModelClient,
  ModelRequest,
  ModelResponse,
} from '../../../../src/integrations/llm/modelClient.js';
import { noUsage } from '../../../../src/integrations/llm/modelClient.js';

export interface ScriptedClient extends ModelClient {
  requests: ModelRequest[];
}

/** An answer carrying `output` as the model would write it. */
export function answer(output: unknown): ModelResponse {
  return { output, text: JSON.stringify(output), usage: noUsage };
}

export function scriptedClient(...script: (ModelResponse | Error)[]): ScriptedClient {
  const requests: ModelRequest[] = [];
  return {
    provider: 'anthropic',
    model: 'scripted',
    requests,
    async complete(request, signal) {
      signal.throwIfAborted();
      requests.push(structuredClone(request));
      const next = script.shift();
      if (next === undefined) throw new Error(`no scripted answer for request ${requests.length}`);
      if (next instanceof Error) throw next;
      return next;
    },
  };
}
