import { request } from 'node:http';
import { connect } from 'node:net';

/** How the server answered an upgrade request. */
export interface UpgradeAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * Sends a WebSocket upgrade request and returns the status and body of the answer;
 * an accepted upgrade (101) is hung up at once.
 */
export function tryUpgrade(port: number, headers: Record<string, string> = {}, path = '/ws'): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const upgrade = request({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version': '13',
        ...headers,
      },
    });
    upgrade.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, body: '' });
    });
    upgrade.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    upgrade.on('error', reject);
    upgrade.end();
  });
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
