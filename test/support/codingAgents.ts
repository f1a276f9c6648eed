/**
 * Helpers for the coding agent tests: the fake agent programs of test/fixtures/agents, their scripts, a
 * configuration that runs them, and whether a process is still alive.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, parseConfig } from '../../src/config.js';

const AGENTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'agents');

export type FakeAgent = 'claude' | 'codex' | 'aider' | 'command';

/** The executable fake of `name` (`#!/usr/bin/env node`). */
export function fakeAgentPath(name: FakeAgent): string {
  return path.join(AGENTS, `${name}.mjs`);
}

/** What a fake agent does (test/fixtures/agents/fakeAgent.mjs). */
export interface FakeAgentScript {
  counter?: string;
  envDump?: string;
  promptMustContain?: string[];
  actions?: Record<string, unknown>[];
  result?: Record<string, unknown>;
  stderr?: string;
  exitCode?: number;
}

export function writeScript(file: string, script: FakeAgentScript): string {
  writeFileSync(file, JSON.stringify(script));
  return file;
}

/** A configuration whose tenant `acme` runs `CodingAgent` (a fake's script passed through `Env`). */
export function agentConfig(codingAgent: Record<string, unknown>): Config {
  return parseConfig({
    Tenants: {
      default: { AutoImplementAfterPlanApproval: true },
      acme: { CodingAgent: { Env: ['FAKE_AGENT_SCRIPT'], TimeoutSeconds: 60, ...codingAgent } },
    },
  });
}

/** True while `pid` runs (a zombie, dead but not yet reaped by its parent, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces and parentheses
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function readPid(file: string): number {
  return Number(readFileSync(file, 'utf8'));
}

export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
