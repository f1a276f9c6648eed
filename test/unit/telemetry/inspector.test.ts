/**
 * The development inspector: a real actor's inspection events reach a local WebSocket server (nothing leaves
 * the machine) in the Stately inspector's format, sanitized; an inspector started before its server buffers
 * and connects when the server comes up, reconnects when the server restarts, and a process that stops it
 * exits even while the server is down.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createActor } from 'xstate';
import { planningMachine } from '../../../src/machines/planning.js';
import { createWebSocketInspector, sanitize } from '../../../src/telemetry/inspector.js';
import { settled, stubAgents, workflowInput } from '../machines/stubs.js';

/** A WebSocket server on loopback that keeps every text message it receives. */
function receiver(port = 0) {
  const messages: Record<string, unknown>[] = [];
  let server: WebSocketServer | undefined;
  return {
    messages,
    async listen(): Promise<number> {
      server = new WebSocketServer({ host: '127.0.0.1', port });
      server.on('connection', (socket) =>
        socket.on('message', (data) => messages.push(JSON.parse(String(data)))),
      );
      await once(server, 'listening');
      port = (server.address() as { port: number }).port;
      return port;
    },
    /** stops as a crashed inspector would: connections cut, no closing handshake */
    async close(): Promise<void> {
      if (!server) return;
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    },
  };
}

async function until(predicate: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('the development inspector', () => {
  it('sanitizes: secrets by key and in text, long texts cut, no internals', () => {
    const options = { maxText: 20, scrub: (t: string) => t.replace('hunter2', '[redacted]') };
    expect(
      sanitize(
        {
          apiKey: 'sk-123',
          Authorization: 'Bearer abc',
          nested: { password: 'x', note: 'my hunter2 is here' },
          description: 'a'.repeat(50),
          list: Array.from({ length: 60 }, (_, i) => i),
          _nodes: [1],
          fn: () => 1,
        },
        options,
      ),
    ).toEqual({
      apiKey: '[redacted]',
      Authorization: '[redacted]',
      nested: { password: '[redacted]', note: 'my [redacted] is her… (21 characters)' },
      description: `${'a'.repeat(20)}… (50 characters)`,
      list: [...Array.from({ length: 50 }, (_, i) => i), '… (10 more)'],
      fn: undefined,
    });
  });

  it("sends a real actor's events to a local WebSocket server, in the Stately format, sanitized", async () => {
    const server = receiver();
    const port = await server.listen();
    cleanups.push(server.close);
    const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}`, maxText: 40 });
    cleanups.push(inspector.stop);
    const longDescription = `We need a flag. ${'More detail. '.repeat(50)}`;
    const actor = createActor(planningMachine.provide({ actors: stubAgents() }), {
      input: workflowInput({
        ticket: { key: 'PROJ-1', system: 'local', title: 't', description: longDescription },
        repository: { url: 'https://bot:s3cret-pass@git.example/repo.git', defaultBranch: 'main' },
      }),
      inspect: inspector.inspect,
    }).start();
    await settled(actor);
    actor.send({ type: 'plan_approved', approvedBy: 'ana' });
    await settled(actor);
    const finished = (m: Record<string, unknown>) =>
      m.type === '@xstate.snapshot' && (m.snapshot as { value?: unknown }).value === 'done';
    await until(() => server.messages.some(finished));

    const root = server.messages.find((m) => m.type === '@xstate.actor' && m.name === 'planning');
    expect(root).toMatchObject({ sessionId: expect.any(String), rootId: expect.any(String) });
    expect(JSON.parse(root!.definition as string)).toMatchObject({ id: 'planning', initial: 'draftPlan' });
    const children = server.messages.filter((m) => m.type === '@xstate.actor' && m.name !== 'planning');
    expect(children.map((m) => m.name)).toEqual(
      expect.arrayContaining(['draftPlan', 'reviewPlan', 'commitPlan']),
    );
    expect(
      server.messages.some(
        (m) => m.type === '@xstate.event' && (m.event as { type: string }).type === 'plan_approved',
      ),
    ).toBe(true);

    const text = JSON.stringify(server.messages);
    expect(text).not.toContain('s3cret-pass');
    expect(text).toContain('https://[redacted]@git.example');
    expect(text).not.toContain('More detail. More detail. More detail. More detail.');
    expect(text).toContain(`(${longDescription.length} characters)`);
    expect(inspector.stats()).toMatchObject({ connected: true });
  });

  it('keeps events while the inspector is down and sends them once it is up', async () => {
    const probe = receiver();
    const port = await probe.listen();
    await probe.close(); // a free port, nobody listening
    const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${port}` });
    cleanups.push(inspector.stop);
    const actor = createActor(planningMachine.provide({ actors: stubAgents() }), {
      input: workflowInput(),
      inspect: inspector.inspect,
    }).start();
    await settled(actor);
    actor.stop();
    await until(() => inspector.stats().sent > 0); // handed over, waiting for a connection
    expect(inspector.stats().connected).toBe(false);

    const server = receiver(port);
    await server.listen();
    cleanups.push(server.close);
    await until(() => server.messages.length >= inspector.stats().sent, 10_000);
    expect(server.messages[0]).toMatchObject({ type: '@xstate.actor', name: 'planning' });
  });

  it('reconnects when the inspector restarts, and sends what happened meanwhile once', async () => {
    const first = receiver();
    const port = await first.listen();
    const statuses: string[] = [];
    const inspector = createWebSocketInspector({
      url: `ws://127.0.0.1:${port}`,
      onStatus: (status) => statuses.push(status),
    });
    cleanups.push(inspector.stop);
    const actor = createActor(planningMachine.provide({ actors: stubAgents() }), {
      input: workflowInput(),
      inspect: inspector.inspect,
    }).start();
    await settled(actor);
    await until(() => inspector.stats().connected && first.messages.length >= inspector.stats().sent);
    const before = inspector.stats().sent;
    await first.close();
    await until(() => !inspector.stats().connected);

    actor.send({ type: 'plan_approved', approvedBy: 'ana' }); // while the inspector is down
    await settled(actor);
    const second = receiver(port);
    await second.listen();
    cleanups.push(second.close);
    await until(() => inspector.stats().connected, 15_000);
    await until(() => second.messages.length >= inspector.stats().sent - before);
    expect(statuses).toEqual(['open', 'closed', 'open']);
    // Only what happened after the first connection was lost: nothing sent twice.
    expect(second.messages.some((m) => m.type === '@xstate.actor' && m.name === 'planning')).toBe(false);
    expect(
      second.messages.some(
        (m) => m.type === '@xstate.event' && (m.event as { type: string }).type === 'plan_approved',
      ),
    ).toBe(true);
  });

  it('lets a process that stops it exit within one retry delay, though the inspector never came up', async () => {
    const probe = receiver();
    const port = await probe.listen();
    await probe.close();
    const script = `
      import { createWebSocketInspector } from ${JSON.stringify(fileURLToPath(new URL('../../../src/telemetry/inspector.ts', import.meta.url)))};
      const inspector = createWebSocketInspector({ url: 'ws://127.0.0.1:${port}' });
      await new Promise((resolve) => setTimeout(resolve, 3000)); // several failed attempts, a retry pending
      await inspector.stop();
      console.log(Date.now());
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const [code] = (await once(child, 'exit')) as [number];
    const exited = Date.now();
    expect(code).toBe(0);
    expect(exited - Number(out.trim())).toBeLessThan(2500); // retries are at most 2 s apart
  });
});
