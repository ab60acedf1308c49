/**
 * Bare `ws`, speaking the command protocol: the ceiling for a Node WebSocket server.
 * Replies use `ws.send`, as a careful user of `ws` would write them. Fan-out comes in
 * two variants (the first argument): `send`, a plain `ws.send` loop, and
 * `preframed-corked`, which frames each push once (header and payload in one buffer)
 * and writes that same buffer to every listener's socket, corked so that one socket's
 * frames of one tick leave in one syscall.
 */
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import * as ws from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { CHANNEL, LISTEN_ACK, PAYLOAD } from '../wire.js';
import { serveBench } from './harness.js';

const variant = process.argv[2];
if (variant !== 'send' && variant !== 'preframed-corked') {
  throw new Error('usage: bare-ws.server.js send|preframed-corked');
}

/** `ws` exports its frame encoder, but its type declarations leave it out. */
const { Sender } = ws as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};

const listeners = new Set<WebSocket>();
const NOT_SUPPORTED = 'websocket: command not supported by server';

function pushWithSend(pushes: number): void {
  for (let push = 0; push < pushes; push++) {
    const frame = Buffer.from(`${CHANNEL}: ${PAYLOAD}`);
    for (const listener of listeners) {
      listener.send(frame);
    }
  }
}

let corked: Duplex[] = [];

function uncorkAll(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) {
    socket.uncork();
  }
}

function pushPreframedCorked(pushes: number): void {
  for (let push = 0; push < pushes; push++) {
    // Header and payload in one buffer: one chunk per listener in the corked writev, not two.
    const frame = Buffer.concat(Sender.frame(Buffer.from(`${CHANNEL}: ${PAYLOAD}`), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
    for (const listener of listeners) {
      const socket = (listener as unknown as { _socket: Duplex })._socket;
      if (socket.writableCorked === 0) {
        socket.cork();
        if (corked.push(socket) === 1) {
          process.nextTick(uncorkAll);
        }
      }
      socket.write(frame);
    }
  }
}

const push = variant === 'send' ? pushWithSend : pushPreframedCorked;

serveBench(async () => {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket: WebSocket) => {
    socket.on('message', (frame: Buffer) => {
      const separator = frame.indexOf(': ');
      if (separator < 1 || separator > 255) {
        socket.send(NOT_SUPPORTED);
        return;
      }
      const command = frame.toString('utf8', 0, separator);
      const data = frame.toString('utf8', separator + 2);
      switch (command) {
        case 'echo':
          socket.send(`echo: ${data}`);
          return;
        case 'listen':
          listeners.add(socket);
          socket.send(LISTEN_ACK);
          return;
        case 'burst':
          push(Number(data));
          return;
        default:
          socket.send(NOT_SUPPORTED);
      }
    });
    socket.on('close', () => listeners.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
});
