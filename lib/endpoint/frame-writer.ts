import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Message } from '../protocol/message.js';

/**
 * Writes messages to server-side `ws` sockets, the fast way:
 *
 * - pre-framed: the WebSocket frame of a message (header and payload in one buffer)
 *   is built on its first send and kept on the message, so a push to many sessions
 *   frames it once and writes the same buffer to every socket;
 * - corked: the first write to a socket in a tick corks it, and all sockets corked in
 *   the tick are uncorked together once the tick's work is done (the code running and
 *   the promise jobs it started), so the frames one socket gets in one tick (a burst
 *   of pushes, the replies to pipelined commands) leave in one syscall.
 *
 * This is the one module that reaches into `ws` internals: the WebSocket's raw socket
 * (`_socket`), whether it is the server's side (`_isServer`), and whether its sender
 * still holds frames of its own (`_sender._bufferedBytes`). Where any of them is not
 * as expected, it falls back to `ws.send`. The writes land in the raw socket's buffer,
 * so `bufferedAmount` counts them as it counts those of `ws.send`.
 */

/** The parts of a `ws` WebSocket this module relies on; none is public API. */
interface WebSocketInternals {
  readonly _socket?: Duplex;
  readonly _isServer?: boolean;
  readonly _sender?: { readonly _bufferedBytes?: number };
}

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const FIN = 0x80;

/** A message's complete WebSocket frame, kept on the message after its first send. */
const WIRE_FRAME = Symbol('websocket frame');

type FramedMessage = Message & { [WIRE_FRAME]?: Buffer };

/** Sockets corked in this tick, uncorked together when it ends. */
let corked: Duplex[] = [];

/**
 * The raw socket to write `socket`'s frames to, or `undefined` when they must go
 * through `ws.send`: the internals are missing, this is a client's socket (its frames
 * must be masked), or the sender still holds frames (compressing, say) that ours
 * must not overtake.
 */
export function directSocket(socket: WebSocket): Duplex | undefined {
  const internals = socket as unknown as WebSocketInternals;
  const raw = internals._socket;
  if (internals._isServer !== true || internals._sender?._bufferedBytes !== 0 || typeof raw?.cork !== 'function') {
    return undefined;
  }
  return raw;
}

/** Writes `message` to an open server-side socket: pre-framed and corked where possible, else with `ws.send`. */
export function writeMessage(socket: WebSocket, message: Message): void {
  const raw = directSocket(socket);
  if (!raw) {
    socket.send(message.frame, { binary: message.binary });
    return;
  }
  if (raw.writableCorked === 0) {
    raw.cork();
    if (corked.push(raw) === 1) {
      queueMicrotask(uncorkAfterPromiseJobs);
    }
  }
  raw.write(wireFrame(message));
}

/**
 * Defers the uncork past every promise job queued so far and those they queue: a
 * next tick scheduled from a promise job runs only once there are none left. So the
 * pushes an async handler makes before its first `await` leave with those after it.
 */
function uncorkAfterPromiseJobs(): void {
  process.nextTick(uncorkAll);
}

function uncorkAll(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) {
    socket.uncork();
  }
}

/**
 * Settles once the socket has written out what it buffered, or has closed: on the raw
 * socket's `drain` when a write found its buffer full, else on the next turn of the
 * event loop. `ws` has no such event of its own.
 */
export function drained(socket: WebSocket): Promise<void> {
  const raw = (socket as unknown as WebSocketInternals)._socket;
  if (!raw?.writableNeedDrain) {
    return new Promise((resolve) => setImmediate(resolve));
  }
  return new Promise((resolve) => {
    const done = (): void => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.once('drain', done);
    raw.once('close', done);
  });
}

/** The message's frame as it goes on the wire (RFC 6455, unmasked, one fragment), built once. */
function wireFrame(message: FramedMessage): Buffer {
  const cached = message[WIRE_FRAME];
  if (cached) {
    return cached;
  }
  const payload = message.frame;
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN | (message.binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame[2] = frame[3] = 0;
    frame.writeUIntBE(length, 4, 6);
  }
  payload.copy(frame, headerLength);
  message[WIRE_FRAME] = frame;
  return frame;
}
