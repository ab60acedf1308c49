/**
 * Bare `ws`, speaking the command protocol: the baselines for a Node WebSocket server.
 * Both variants parse a frame the same way (the command and the data as text, as an
 * application gets them); they differ in how they write (the first argument):
 *
 * - `send`: every reply and every push with `ws.send`, as `ws`'s README writes it;
 * - `preframed-corked`: what a careful engineer tunes that into. Every frame is built
 *   once, header and payload in one buffer, and written to the raw socket, corked so
 *   that the frames one socket gets in one tick (the replies to a client's pipelined
 *   requests, a burst of pushes) leave in one syscall; a push is framed once for all
 *   its listeners.
 *
 * `--heartbeat MS` adds the heartbeat of `ws`'s README: every MS, one timer pings each
 * client, and drops one that did not answer the previous ping.
 */
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { CHANNEL, LISTEN_ACK, PAYLOAD } from '../wire.js';
import { serveBench } from './harness.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { heartbeat: { type: 'string' } } });
const variant = positionals[0];
if (variant !== 'send' && variant !== 'preframed-corked') {
  throw new Error('usage: bare-ws.server.js send|preframed-corked [--heartbeat MS]');
}
const heartbeatMs = Number(values.heartbeat ?? 0);

const listeners = new Set<WebSocket>();
const NOT_SUPPORTED = 'websocket: command not supported by server';
const FIN_TEXT = 0x81;

/**
 * A complete unmasked text frame, header and payload in one buffer, the text encoded
 * straight into it. Every frame of the bench is shorter than 64 KiB.
 */
function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const headerLength = length < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN_TEXT;
  if (headerLength === 2) {
    frame[1] = length;
  } else {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  }
  frame.write(text, headerLength);
  return frame;
}

const COLON = 0x3a;
const SPACE = 0x20;

/** Where the first `": "` of a frame's first 256 bytes is, or -1: a loop over the bytes costs less than `indexOf` does on a short buffer. */
function separatorAt(frame: Buffer): number {
  const limit = Math.min(frame.length - 1, 256);
  for (let index = 0; index < limit; index++) {
    if (frame[index] === COLON && frame[index + 1] === SPACE) {
      return index;
    }
  }
  return -1;
}

let corked: Duplex[] = [];

function uncorkAll(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) {
    socket.uncork();
  }
}

/** Writes a finished frame to the client's raw socket, corked until this tick's work is done. */
function writeCorked(client: WebSocket, frame: Buffer): void {
  const socket = (client as unknown as { _socket: Duplex })._socket;
  if (socket.writableCorked === 0) {
    socket.cork();
    if (corked.push(socket) === 1) {
      process.nextTick(uncorkAll);
    }
  }
  socket.write(frame);
}

const reply: (client: WebSocket, text: string) => void =
  variant === 'send' ? (client, text) => client.send(text) : (client, text) => writeCorked(client, textFrame(text));

function pushWithSend(pushes: number): void {
  for (let push = 0; push < pushes; push++) {
    const frame = Buffer.from(`${CHANNEL}: ${PAYLOAD}`);
    for (const listener of listeners) {
      listener.send(frame);
    }
  }
}

function pushPreframedCorked(pushes: number): void {
  for (let push = 0; push < pushes; push++) {
    const frame = textFrame(`${CHANNEL}: ${PAYLOAD}`);
    for (const listener of listeners) {
      writeCorked(listener, frame);
    }
  }
}

const push = variant === 'send' ? pushWithSend : pushPreframedCorked;

/** A client with the flag of `ws`'s heartbeat example: whether it answered the last ping. */
type Heartbeating = WebSocket & { isAlive?: boolean };

function startHeartbeat(wss: WebSocketServer): void {
  setInterval(() => {
    for (const client of wss.clients as Set<Heartbeating>) {
      if (!client.isAlive) {
        client.terminate();
      } else {
        client.isAlive = false;
        client.ping();
      }
    }
  }, heartbeatMs).unref();
}

serveBench(async () => {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket: Heartbeating) => {
    socket.on('message', (frame: Buffer) => {
      const separator = separatorAt(frame);
      if (separator < 1) {
        reply(socket, NOT_SUPPORTED);
        return;
      }
      const command = frame.toString('utf8', 0, separator);
      const data = frame.toString('utf8', separator + 2);
      switch (command) {
        case 'echo':
          reply(socket, `echo: ${data}`);
          return;
        case 'listen':
          listeners.add(socket);
          reply(socket, LISTEN_ACK);
          return;
        case 'burst':
          push(Number(data));
          return;
        default:
          reply(socket, NOT_SUPPORTED);
      }
    });
    socket.on('close', () => listeners.delete(socket));
    if (heartbeatMs > 0) {
      socket.isAlive = true;
      socket.on('pong', () => {
        socket.isAlive = true;
      });
    }
  });
  if (heartbeatMs > 0) {
    startHeartbeat(wss);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
});
