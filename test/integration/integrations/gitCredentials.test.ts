/**
 * The origin's credentials against a real smart-HTTP server (`git http-backend` behind test/support/gitHttpServer)
 * that refuses every request without `Authorization: Basic base64(x-access-token:<token>)`, as a forge does.
 *
 * What is checked: every operation works with a credentials function and fails fast without one; the header
 * reaches git only through the environment of the commands that talk to the origin (a `git` on PATH that
 * records each invocation's argv and environment shows it), and never the argument list, a `.git/config`, a
 * remote, an error, the coding agent's copy or the coding agent's environment.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GitOwner, LlmPort } from '../../../src/actors/ports.js';
import { createCodingAgents } from '../../../src/integrations/codingAgent/codingAgents.js';
import type { GitError } from '../../../src/integrations/git/errors.js';
import { createGitCli, type GitCli } from '../../../src/integrations/git/gitCli.js';
import { remoteBranchCommit } from '../../../src/integrations/git/lsRemote.js';
import { runGit } from '../../../src/integrations/git/runGit.js';
import { IDEMPOTENCY_TRAILER } from '../../../src/integrations/git/trailers.js';
import type { Repository } from '../../../src/machines/domain.js';
import { agentConfig, fakeAgentPath, writeScript } from '../../support/codingAgents.js';
import { createSampleOrigin, git, type SampleOrigin } from '../../support/git.js';
import { type GitHttpServer, startGitHttpServer } from '../../support/gitHttpServer.js';

const TOKEN = 'ghs_fakeInstallationToken0123456789';
const CREDENTIALS = `x-access-token:${TOKEN}`;
const ENCODED = Buffer.from(CREDENTIALS).toString('base64');
const HEADER = `Basic ${ENCODED}`;
/** every form in which the token could leak */
const LEAKS = [TOKEN, ENCODED, CREDENTIALS];

const signal = () => new AbortController().signal;

function expectNoToken(text: string, where: string): void {
  for (const leak of LEAKS) expect(text.includes(leak), `${where} holds the token`).toBe(false);
}

/** Every file below `dir`, read as bytes (latin1), for a search of the token. */
function everyFile(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { file, text: readFileSync(file, 'latin1') };
    });
}

/** The git subcommand of an argument list as runGit builds it (`-c key=value` pairs and options first). */
function subcommandOf(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-c') i++;
    else if (!argv[i]?.startsWith('-')) return argv[i] ?? '';
  }
  return '';
}

describe('git credentials for the origin', () => {
  let origin: SampleOrigin;
  let server: GitHttpServer;
  let requests: { method: string; path: string; authorized: boolean }[];
  let repository: Repository;
  let scratch: string;
  let asked: { owner: GitOwner; url: string }[];
  const owner = (executionId: string): GitOwner => ({ tenantId: 'acme', executionId });

  const worker = (credentials: boolean | string = true): GitCli =>
    createGitCli({
      workspacesDir: path.join(scratch, `workspaces-${randomUUID()}`),
      ...(credentials !== false && {
        credentials: async (who, url) => {
          asked.push({ owner: who, url });
          return credentials === true ? HEADER : credentials;
        },
      }),
    });

  beforeEach(async () => {
    origin = createSampleOrigin();
    requests = [];
    asked = [];
    server = await startGitHttpServer({ root: origin.root, authorization: HEADER, requests });
    repository = { url: `${server.url}/origin.git`, defaultBranch: 'main' };
    scratch = mkdtempSync(path.join(tmpdir(), 'prf-gitauth-'));
  });
  afterEach(async () => {
    await server.close();
    origin.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('prepares, checks out, pushes, finds a keyed commit and publishes an agent’s change with the header', async () => {
    const gitCli = worker();
    const executionId = randomUUID();
    const { baseCommit, workspace } = await gitCli.prepare(owner(executionId), repository, signal());
    expect(baseCommit).toBe(origin.initialCommit);
    expect(await gitCli.readFile(workspace, 'src/index.ts')).toBe('export const answer = 42;\n');
    expect(asked[0]).toEqual({ owner: { tenantId: 'acme', executionId }, url: repository.url });

    const plan = await gitCli.commitAndPush(
      owner(executionId),
      repository,
      { baseCommit, branch: 'prfactory/plan', message: 'Plan', files: { 'docs/plan.md': '# Plan\n' } },
      signal(),
    );
    expect(origin.tip('prfactory/plan')).toBe(plan.commit);
    const atBranch = await gitCli.checkout(
      owner(executionId),
      repository,
      { baseCommit, branch: 'prfactory/plan' },
      signal(),
    );
    expect(await gitCli.readFile(atBranch, 'docs/plan.md')).toBe('# Plan\n');

    const key = `${executionId}:implement`;
    const branch = 'prfactory/impl';
    expect(
      await gitCli.findKeyedCommit(owner(executionId), repository, { branch, key }, signal()),
    ).toBeNull();
    const agentDir = await gitCli.agentWorkspace(owner(executionId), repository, { baseCommit }, signal());
    writeFileSync(path.join(agentDir.dir, 'NEW.md'), 'new\n');
    const pushed = await gitCli.commitWorkspace(
      owner(executionId),
      repository,
      agentDir,
      { baseCommit, branch, message: 'Implement', trailers: { [IDEMPOTENCY_TRAILER]: key } },
      signal(),
    );
    expect(origin.tip(branch)).toBe(pushed.commit);
    // another worker, with a clone of its own, finds it through the origin
    const found = await worker().findKeyedCommit(owner(executionId), repository, { branch, key }, signal());
    expect(found?.commit).toBe(pushed.commit);
    expect(await remoteBranchCommit(repository.url, branch, signal(), HEADER)).toBe(pushed.commit);

    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((request) => request.authorized)).toBe(true);
    expect(requests.some((request) => request.path.endsWith('/git-receive-pack'))).toBe(true);
  });

  it('fails fast with AUTH_FAILED, naming no credential, when the origin refuses (none, or a wrong one)', async () => {
    const started = Date.now();
    const none = (await worker(false)
      .prepare(owner(randomUUID()), repository, signal())
      .catch((e) => e)) as GitError;
    expect(none).toMatchObject({ name: 'GitError', code: 'AUTH_FAILED' });
    expect(none.message).toMatch(/^git clone: the origin refused access/);
    // git never waited at a prompt: well under git's or the test's timeouts
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(requests.some((request) => !request.authorized)).toBe(true);

    const wrongToken = 'ghs_wrongToken9876543210';
    const wrongHeader = `Basic ${Buffer.from(`x-access-token:${wrongToken}`).toString('base64')}`;
    const wrong = (await worker(wrongHeader)
      .prepare(owner(randomUUID()), repository, signal())
      .catch((e) => e)) as GitError;
    expect(wrong).toMatchObject({ name: 'GitError', code: 'AUTH_FAILED' });
    for (const error of [none, wrong]) {
      const visible = JSON.stringify({
        message: error.message,
        args: error.args,
        stderr: error.stderr,
        s: String(error),
      });
      expectNoToken(visible, 'the error');
      expect(visible).not.toContain(wrongToken);
      expect(visible).not.toContain(wrongHeader.slice('Basic '.length));
    }

    await expect(remoteBranchCommit(repository.url, 'main', signal())).rejects.toMatchObject({
      code: 'AUTH_FAILED',
    });
  });

  it('refuses a header value with a line break before git runs', async () => {
    const error = (await worker(`${HEADER}\r\nX-Injected: 1`)
      .prepare(owner(randomUUID()), repository, signal())
      .catch((e) => e)) as GitError;
    expect(error).toMatchObject({ name: 'GitError', code: 'INVALID_CREDENTIALS' });
    expectNoToken(error.message, 'the error');
    expect(requests).toEqual([]);
  });

  it('scrubs the header from an error even when git prints it', async () => {
    // git echoes an unknown revision back: the value, its base64 part and the decoded pair each in turn
    for (const printed of [HEADER, ENCODED, CREDENTIALS]) {
      const error = (await runGit(['log', printed, '--'], {
        cwd: origin.url,
        authorization: HEADER,
      }).catch((e) => e)) as GitError;
      expect(error).toMatchObject({ name: 'GitError', code: 'GIT_FAILED' });
      expectNoToken(
        JSON.stringify({ message: error.message, args: error.args, stderr: error.stderr }),
        'the error',
      );
      expect(error.args.join(' ')).toContain('[redacted]');
    }
  });

  it('leaves the token in no .git/config, no remote, no coding agent copy and no coding agent environment', async () => {
    const workspacesDir = path.join(scratch, 'workspaces');
    const gitCli = createGitCli({ workspacesDir, credentials: async () => HEADER });
    const executionId = randomUUID();
    const { baseCommit, workspace } = await gitCli.prepare(owner(executionId), repository, signal());
    const agentDir = await gitCli.agentWorkspace(owner(executionId), repository, { baseCommit }, signal());

    expect(git(workspace.dir, 'remote', '-v')).toContain(repository.url);
    expectNoToken(git(workspace.dir, 'remote', '-v'), 'git remote -v of the clone');
    expectNoToken(git(workspace.dir, 'config', '--list', '--show-origin'), 'the clone’s configuration');
    expect(git(agentDir.dir, 'remote', '-v')).toBe('');
    expectNoToken(git(agentDir.dir, 'config', '--list', '--show-origin'), 'the agent copy’s configuration');
    // every file of the clone and of the agent's copy, .git included (config, FETCH_HEAD, logs, …)
    for (const { file, text } of everyFile(workspacesDir)) expectNoToken(text, file);

    // The coding agent runs in its copy with a worker environment that holds git configuration of the
    // operator's, and sees none of it.
    const envDump = path.join(scratch, 'env.json');
    const scriptFile = writeScript(path.join(scratch, 'script.json'), {
      envDump,
      actions: [{ write: 'src/flag.ts', content: 'export const flag = true;\n' }],
    });
    const codingAgent = createCodingAgents({
      config: agentConfig({ Preset: 'command', Command: [fakeAgentPath('command'), '--fake-flag'] }),
      llm: {} as LlmPort, // the command preset never asks the model
      git: gitCli,
      env: {
        ...process.env,
        FAKE_AGENT_SCRIPT: scriptFile,
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraheader',
        GIT_CONFIG_VALUE_0: `Authorization: ${HEADER}`,
      },
    });
    await codingAgent.run(
      { tenantId: 'acme', executionId, step: 'implement' },
      {
        workspace: agentDir,
        ticket: { key: 'T-1', system: 'local', title: 'Flag', description: '' },
        plan: 'x',
      },
      signal(),
    );
    const env = JSON.parse(readFileSync(envDump, 'utf8')) as Record<string, string>;
    expect(Object.keys(env).filter((name) => name.startsWith('GIT_'))).toEqual([]);
    expectNoToken(JSON.stringify(env), 'the coding agent’s environment');

    const result = await gitCli.commitWorkspace(
      owner(executionId),
      repository,
      agentDir,
      { baseCommit, branch: 'prfactory/flag', message: 'Flag', trailers: {} },
      signal(),
    );
    expect(result.change.added).toEqual(['src/flag.ts']);
    for (const { file, text } of everyFile(workspacesDir)) expectNoToken(text, file);
  });

  describe('as git is run (a recording git on PATH)', () => {
    let logDir: string;
    let savedPath: string | undefined;

    beforeEach(() => {
      logDir = path.join(scratch, 'git-log');
      const bin = path.join(scratch, 'bin');
      mkdirSync(logDir);
      mkdirSync(bin);
      const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
      // argv and environment of each invocation, NUL-separated, then the real git with the same arguments
      writeFileSync(
        path.join(bin, 'git'),
        [
          '#!/bin/sh',
          `log="${logDir}/$$-$(date +%s%N)"`,
          `printf '%s\\0' "$@" > "$log.argv"`,
          'env -0 > "$log.env"',
          `exec "${realGit}" "$@"`,
          '',
        ].join('\n'),
      );
      chmodSync(path.join(bin, 'git'), 0o755);
      savedPath = process.env.PATH;
      process.env.PATH = `${bin}:${savedPath ?? ''}`;
    });
    afterEach(() => {
      process.env.PATH = savedPath;
    });

    function invocations(): { subcommand: string; argv: string[]; env: Map<string, string> }[] {
      return readdirSync(logDir)
        .filter((name) => name.endsWith('.argv'))
        .map((name) => {
          const argv = readFileSync(path.join(logDir, name), 'utf8').split('\0').slice(0, -1);
          const env = new Map(
            readFileSync(path.join(logDir, name.replace(/\.argv$/, '.env')), 'utf8')
              .split('\0')
              .filter((entry) => entry.includes('='))
              .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
          );
          return { subcommand: subcommandOf(argv), argv, env };
        });
    }

    it('passes the header in the environment of clone, fetch, push and ls-remote only, never in argv', async () => {
      const gitCli = worker();
      const executionId = randomUUID();
      const { baseCommit } = await gitCli.prepare(owner(executionId), repository, signal());
      await gitCli.prepare(owner(executionId), repository, signal()); // a fetch this time
      const agentDir = await gitCli.agentWorkspace(owner(executionId), repository, { baseCommit }, signal());
      writeFileSync(path.join(agentDir.dir, 'NEW.md'), 'new\n');
      await gitCli.commitWorkspace(
        owner(executionId),
        repository,
        agentDir,
        { baseCommit, branch: 'prfactory/x', message: 'X', trailers: {} },
        signal(),
      );
      await remoteBranchCommit(repository.url, 'prfactory/x', signal(), HEADER);

      const runs = invocations();
      const withHeader = runs.filter((run) =>
        [...run.env.values()].some((value) => value === `Authorization: ${HEADER}`),
      );
      const talksToOrigin = (run: (typeof runs)[number]) =>
        ['fetch', 'push', 'ls-remote'].includes(run.subcommand) ||
        (run.subcommand === 'clone' && run.argv.includes(repository.url));
      expect(new Set(withHeader.map((run) => run.subcommand))).toEqual(
        new Set(['clone', 'fetch', 'push', 'ls-remote']),
      );
      expect(runs.filter(talksToOrigin)).toEqual(withHeader);
      // the coding agent's copy is a clone too, of the local clone, and without the header
      expect(runs.some((run) => run.subcommand === 'clone' && run.argv.includes('--shared'))).toBe(true);
      for (const run of withHeader) {
        const index = [...run.env.entries()].find(([, value]) => value === `Authorization: ${HEADER}`)?.[0];
        expect(index).toMatch(/^GIT_CONFIG_VALUE_\d+$/);
        expect(run.env.get(index?.replace('VALUE', 'KEY') ?? '')).toBe('http.extraheader');
        expect(run.env.get('GIT_TERMINAL_PROMPT')).toBe('0');
      }
      for (const run of runs) {
        expectNoToken(run.argv.join(' '), `argv of git ${run.subcommand}`);
        if (!withHeader.includes(run))
          expectNoToken([...run.env.values()].join('\n'), `git ${run.subcommand}`);
      }
    });
  });
});
