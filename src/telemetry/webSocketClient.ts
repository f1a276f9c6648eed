/**
 * The smallest WebSocket client the inspector needs (RFC 6455, text frames out, nothing in): Node 20 has no
 * global `WebSocket`, and the `ws` package is not a dependency of the worker. It connects (ws:// or wss://),
 * sends masked text frames, answers pings, and reconnects with a growing delay while it is open; what is sent
 * while disconnected waits in a bounded buffer (the oldest are dropped first). It never throws at its caller:
 * inspection must not break a workflow.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE = { text: 0x1, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface WebSocketClientOptions {
  /** at most this many messages wait while disconnected (default 1,000) */
  maxBuffered?: number;
  /** told of each connection change, for a log line */
  onStatus?: (status: 'open' | 'closed', detail?: string) => void;
}

/** One frame from this client: FIN, `opcode`, masked payload (clients must mask, RFC 6455 §5.3). */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (length < 126) header[1] = 0x80 | length;
  else if (length < 65_536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

export class WebSocketClient {
  private socket: Duplex | undefined;
  private readonly buffer: string[] = [];
  private received = Buffer.alloc(0);
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** messages dropped because the buffer was full */
  dropped = 0;

  constructor(
    readonly url: string,
    private readonly options: WebSocketClientOptions = {},
  ) {
    const protocol = new URL(url).protocol;
    if (protocol !== 'ws:' && protocol !== 'wss:') throw new Error(`not a WebSocket URL: ${url}`);
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  open(): this {
    this.stopped = false;
    this.connect();
    return this;
  }

  /** Sends `text` now, or when the connection is (re)established. */
  send(text: string): void {
    if (this.socket) {
      this.socket.write(clientFrame(OPCODE.text, Buffer.from(text)));
      return;
    }
    this.buffer.push(text);
    if (this.buffer.length > (this.options.maxBuffered ?? 1000)) {
      this.buffer.shift();
      this.dropped++;
    }
  }

  /** Closes the connection (after what was sent is flushed) and stops reconnecting. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end(clientFrame(OPCODE.close, Buffer.from([0x03, 0xe8]))); // 1000: normal closure
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 1000).unref();
    });
  }

  private connect(): void {
    const url = new URL(this.url);
    const key = randomBytes(16).toString('base64');
    const request = (url.protocol === 'wss:' ? https : http).request({
      host: url.hostname,
      port: url.port || (url.protocol === 'wss:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': key,
        'Sec-WebSocket-Version': '13',
      },
    });
    request.on('upgrade', (response, socket) => {
      const expected = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      if (response.headers['sec-websocket-accept'] !== expected) {
        socket.destroy();
        this.retry('the server did not accept the WebSocket handshake');
        return;
      }
      this.onOpen(socket);
    });
    request.on('response', (response) => {
      response.resume();
      this.retry(`the server answered HTTP ${response.statusCode} instead of switching to WebSocket`);
    });
    request.on('error', (error) => this.retry(error.message));
    request.end();
  }

  private onOpen(socket: Duplex): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    this.attempt = 0;
    this.received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.retry('the connection closed');
    });
    this.options.onStatus?.('open');
    for (const text of this.buffer.splice(0)) this.send(text);
  }

  /** Reads the server's frames: only ping and close matter to a client that only sends. */
  private onData(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    while (this.received.length >= 2) {
      const opcode = this.received[0]! & 0x0f;
      let length = this.received[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.received.length < 4) return;
        length = this.received.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.received.length < 10) return;
        length = Number(this.received.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.received.length < offset + length) return;
      const payload = this.received.subarray(offset, offset + length);
      this.received = this.received.subarray(offset + length);
      if (opcode === OPCODE.ping) this.socket?.write(clientFrame(OPCODE.pong, Buffer.from(payload)));
      if (opcode === OPCODE.close)
        this.socket?.end(clientFrame(OPCODE.close, Buffer.from(payload.subarray(0, 2))));
    }
  }

  private retry(reason: string): void {
    if (this.stopped || this.timer) return;
    this.options.onStatus?.('closed', reason);
    const delay = Math.min(30_000, 500 * 2 ** this.attempt++);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.connect();
    }, delay);
    this.timer.unref();
  }
}
