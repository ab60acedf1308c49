import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';

/** What the server answered to a WebSocket upgrade request, as a raw HTTP client saw it. */
export interface UpgradeAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * Sends a WebSocket upgrade request with plain HTTP and returns the answer. For a
 * refusal it also waits until the server has closed the connection, so a refused
 * client that the server kept open makes the test time out.
 */
export async function upgradeRequest(port: number, path: string, headers: Record<string, string> = {}): Promise<UpgradeAnswer> {
  const outgoing = request({
    host: '127.0.0.1',
    port,
    path,
    agent: false,
    headers: {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      ...headers,
    },
  });
  outgoing.end();
  const answer = await Promise.race([
    once(outgoing, 'response').then(async ([response]) => {
      const socketClosed = once(outgoing.socket!, 'close');
      const chunks: Buffer[] = [];
      for await (const chunk of response) {
        chunks.push(chunk);
      }
      await socketClosed;
      return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString() };
    }),
    once(outgoing, 'upgrade').then(([response, socket]) => {
      socket.destroy();
      return { status: response.statusCode, headers: response.headers, body: '' };
    }),
  ]);
  return answer as UpgradeAnswer;
}

/** The status and body of the answer to an upgrade request with `headers`, for `path` (default `/ws`). */
export async function tryUpgrade(port: number, headers: Record<string, string> = {}, path = '/ws'): Promise<{ status: number; body: string }> {
  const { status, body } = await upgradeRequest(port, path, headers);
  return { status, body };
}

/**
 * Writes `text` as it is to the server and returns everything the server sends
 * until it closes the connection: for requests no HTTP client would send.
 */
export function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** A well-formed upgrade request for `path` (the request target is taken as it is), with extra header lines. */
export function upgradeRequestText(target: string, ...headerLines: string[]): string {
  return [
    `GET ${target} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...headerLines,
    '',
    '',
  ].join('\r\n');
}
