import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';

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
