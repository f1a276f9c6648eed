/**
 * HTTP by hand on a raw TCP socket, for clients no HTTP library would be: one that trickles its body or its
 * headers, one that holds a connection open, one whose headers are too large. Everything the server sends is
 * collected until it closes the connection.
 */
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** everything received so far */
  readonly received: string;
  /** resolves with everything received once the server (or the test) closed the connection */
  closed: Promise<string>;
  /** resolves once `text` has been received */
  receivedText(text: string): Promise<void>;
}

/** Connects to `url`'s host and port and writes `first` (when given) once connected. */
export function openRaw(url: string, first?: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    const waiters: { text: string; resolve: () => void }[] = [];
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      for (const waiter of [...waiters]) {
        if (!received.includes(waiter.text)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
    // A reset after the server's answer is a close like any other here.
    socket.on('error', () => {});
    const closed = new Promise<string>((done) => socket.once('close', () => done(received)));
    socket.once('connect', () => {
      socket.off('error', reject);
      if (first !== undefined) socket.write(first);
      resolve({
        socket,
        get received() {
          return received;
        },
        closed,
        receivedText(text) {
          if (received.includes(text)) return Promise.resolve();
          return new Promise<void>((done, fail) => {
            waiters.push({ text, resolve: done });
            void closed.then(() =>
              fail(
                new Error(`connection closed before "${text}" arrived; received ${JSON.stringify(received)}`),
              ),
            );
          });
        },
      });
    });
    socket.once('error', reject);
  });
}

/** One request with `Connection: close`; resolves with the whole answer once the server closed. */
export async function rawRequest(url: string, request: string): Promise<string> {
  const connection = await openRaw(url, request);
  return connection.closed;
}

/** Status code and JSON body of a raw answer (`HTTP/1.1 503 …\r\n…\r\n\r\n{…}`). */
export function parseRawAnswer(answer: string): { status: number; headers: string; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? Number.NaN);
  const split = answer.indexOf('\r\n\r\n');
  const headers = split >= 0 ? answer.slice(0, split) : answer;
  const text = split >= 0 ? answer.slice(split + 4) : '';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status, headers, body };
}
