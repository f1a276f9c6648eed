/**
 * What a coding agent's program reports on stdout, read line by line while it runs (runProcess.ts), for the
 * presets whose output format is known. A line that is not the format's JSON is skipped: programs print
 * banners, warnings and progress between their events.
 */

/** The run as the program reported it. */
export interface AgentReport {
  /** what the agent says it did; empty when it says nothing */
  summary: string;
  turns?: number;
  costUsd?: number;
  /** set when the program reported that it failed: the reason, for a permanent failure of the step */
  error?: string;
}

export interface AgentOutputReader {
  line(text: string): void;
  report(): AgentReport;
}

/** For programs with no known output format (aider, command): they report nothing but their exit code. */
export function silentOutput(): AgentOutputReader {
  return { line() {}, report: () => ({ summary: '' }) };
}

/** `text` parsed as JSON when it looks like one JSON object, else undefined. */
export function jsonLine(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}
