import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket, WebSocketServer } from 'ws';
import { Message } from 'nestjs-easy-ws';
import { directSocket, writeMessage } from '../../lib/endpoint/frame-writer.js';

/** A frame as a real `ws` client received it. */
interface Received {
  readonly data: Buffer;
  readonly binary: boolean;
}

/** A connection: the server's side (what the frame writer writes to) and a real client that records what arrives. */
interface Pair {
  readonly server: WebSocket;
  readonly client: WebSocket;
  /** Resolves with the next `count` frames the client receives. */
  frames(count: number): Promise<Received[]>;
}

let wss: WebSocketServer;
let url: string;

before(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
});
after(() => new Promise((resolve) => wss.close(resolve)));

async function connect(): Promise<Pair> {
  const accepted = once(wss, 'connection');
  const client = new WebSocket(url);
  const received: Received[] = [];
  let waiting: { count: number; resolve(frames: Received[]): void } | undefined;
  client.on('message', (data: Buffer, binary: boolean) => {
    received.push({ data, binary });
    if (waiting && received.length >= waiting.count) {
      waiting.resolve(received.splice(0, waiting.count));
      waiting = undefined;
    }
  });
  await once(client, 'open');
  const [server] = (await accepted) as [WebSocket];
  return {
    server,
    client,
    frames: (count) =>
      new Promise((resolve) => {
        if (received.length >= count) {
          resolve(received.splice(0, count));
        } else {
          waiting = { count, resolve };
        }
      }),
  };
}

async function close({ client }: Pair): Promise<void> {
  client.close();
  await once(client, 'close');
}

test('the installed ws has the internals the frame writer relies on', { timeout: 5000 }, async () => {
  const pair = await connect();
  const internals = pair.server as unknown as { _socket: unknown; _isServer: unknown; _sender: { _bufferedBytes: unknown } };
  assert.ok(internals._socket instanceof Socket, 'a server-side WebSocket keeps its net.Socket in _socket');
  assert.equal(internals._isServer, true);
  assert.equal(internals._sender._bufferedBytes, 0, 'an idle sender holds no bytes of its own');
  assert.equal(directSocket(pair.server), internals._socket, 'so the writer writes to the raw socket, not through ws.send');
  await close(pair);
});

test('pre-framed writes arrive as the messages sent, in order, at every frame-length boundary', { timeout: 5000 }, async () => {
  const pair = await connect();
  const messages = [
    new Message('empty'),
    new Message('short', 'x'.repeat(120)), // a 127-byte frame: 16-bit length
    new Message('edge', 'y'.repeat(119)), // 125 bytes: the longest 7-bit length
    new Message('wide', 'z'.repeat(65_529)), // 65,535 bytes: the longest 16-bit length
    new Message('huge', 'w'.repeat(70_000)), // 64-bit length
    new Message('bytes', Uint8Array.from([0, 1, 2, 255, 254])),
    new Message('utf8', 'grüße, 世界'),
  ];
  for (const message of messages) {
    writeMessage(pair.server, message);
  }
  const received = await pair.frames(messages.length);
  assert.deepEqual(
    received.map(({ data, binary }) => ({ data: data.toString('latin1'), binary })),
    messages.map((message) => ({ data: message.frame.toString('latin1'), binary: message.binary })),
  );
  await close(pair);
});

test('one message written to several sockets reaches each of them whole', { timeout: 5000 }, async () => {
  const pairs = [await connect(), await connect(), await connect()];
  const message = new Message('news', 'for everyone');
  for (const pair of pairs) {
    writeMessage(pair.server, message);
    writeMessage(pair.server, message);
  }
  for (const pair of pairs) {
    assert.deepEqual(
      (await pair.frames(2)).map(({ data }) => data.toString()),
      ['news: for everyone', 'news: for everyone'],
    );
    await close(pair);
  }
});

test('frames written in one tick count in bufferedAmount until they leave', { timeout: 5000 }, async () => {
  const pair = await connect();
  const message = new Message('queued', 'a'.repeat(1000));
  writeMessage(pair.server, message);
  writeMessage(pair.server, message);
  assert.ok(pair.server.bufferedAmount >= 2 * message.frame.length, `bufferedAmount ${pair.server.bufferedAmount}`);
  assert.equal((await pair.frames(2)).length, 2);
  assert.equal(pair.server.bufferedAmount, 0);
  await close(pair);
});

test('a socket without the internals gets its frames through ws.send', { timeout: 5000 }, async () => {
  const pair = await connect();
  assert.equal(directSocket({} as WebSocket), undefined);
  // A client's socket has the internals, but its frames must be masked: only ws.send does that.
  assert.equal(directSocket(pair.client), undefined);
  const received = once(pair.server, 'message');
  writeMessage(pair.client, new Message('up', 'from the client'));
  assert.equal(String((await received)[0]), 'up: from the client');
  await close(pair);
});
