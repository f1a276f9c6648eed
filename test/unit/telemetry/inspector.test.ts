/**
 * The development inspector: a real actor's inspection events reach a local WebSocket server (nothing leaves
 * the machine) in the Stately inspector's format, sanitized; an inspector started before its server buffers
 * and connects when the server comes up.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { planningMachine } from '../../../src/machines/planning.js';
import { createWebSocketInspector, sanitize } from '../../../src/telemetry/inspector.js';
import { settled, stubAgents, workflowInput } from '../machines/stubs.js';

/** A WebSocket server that keeps every text message it receives (RFC 6455, server side, text frames only). */
function receiver(port = 0) {
  const messages: Record<string, unknown>[] = [];
  const sockets = new Set<Duplex>();
  const server = http.createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket) => {
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let data = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 2) {
        const opcode = data[0]! & 0x0f;
        let length = data[1]! & 0x7f;
        let offset = 2;
        if (length === 126) [length, offset] = [data.readUInt16BE(2), 4];
        else if (length === 127) [length, offset] = [Number(data.readBigUInt64BE(2)), 10];
        if (data.length < offset + 4 + length) return;
        const mask = data.subarray(offset, offset + 4);
        const payload = Buffer.from(data.subarray(offset + 4, offset + 4 + length));
        for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
        data = data.subarray(offset + 4 + length);
        if (opcode === 0x1) messages.push(JSON.parse(payload.toString('utf8')));
        if (opcode === 0x8) socket.end();
      }
    });
  });
  return {
    messages,
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
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
    expect(text).toContain('https://bot:[redacted]@git.example');
    expect(text).not.toContain('More detail. More detail. More detail. More detail.');
    expect(text).toContain(`(${longDescription.length} characters)`);
    expect(inspector.stats()).toMatchObject({ connected: true, dropped: 0 });
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
    expect(inspector.stats().connected).toBe(false);

    const server = receiver(port);
    await server.listen();
    cleanups.push(server.close);
    await until(() => server.messages.length >= inspector.stats().sent, 10_000);
    expect(server.messages[0]).toMatchObject({ type: '@xstate.actor', name: 'planning' });
  });
});
