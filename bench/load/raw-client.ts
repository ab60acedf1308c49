import { connect, type Socket } from 'node:net';

const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * A minimal WebSocket client for load generation: it writes frames masked once in
 * advance and parses what arrives without copying, so that the load generator
 * spends as little CPU per frame as it can and the server stays the bottleneck.
 * Not a general client: no fragmentation, no extensions, text frames only.
 */
export class RawClient {
  /** Called after each ping the server sends (the client has answered it by then). */
  onPing: (() => void) | undefined;
  private handler: MessageHandler | undefined;
  /** Messages that arrived before a handler was set (socket.io's open packet comes with the handshake). */
  private early: Buffer[] = [];
  private rest: Buffer | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  /**
   * Opens a WebSocket to 127.0.0.1:`port` at `path` and resolves once the server
   * switched protocols; from `localAddress` when given (one loopback address has
   * ports for some 28,000 connections to one server).
   */
  static open(port: number, path: string, subprotocol?: string, localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true, localAddress });
      let head = Buffer.alloc(0);
      const fail = (error: Error): void => {
        socket.destroy();
        reject(error);
      };
      const onHandshake = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) {
          return;
        }
        socket.off('data', onHandshake);
        socket.off('error', fail);
        socket.setTimeout(0);
        const status = head.toString('latin1', 0, head.indexOf('\r\n'));
        if (!status.startsWith('HTTP/1.1 101')) {
          return fail(new Error(`handshake refused: ${status}`));
        }
        const client = new RawClient(socket);
        socket.on('error', () => undefined); // a reset at the end of a run is not a result
        resolve(client);
        if (end + 4 < head.length) {
          client.read(Buffer.from(head.subarray(end + 4)));
        }
      };
      socket.on('error', fail);
      socket.on('data', onHandshake);
      // A server that never answers must not hold up the bench.
      socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => fail(new Error(`no answer to the handshake within ${HANDSHAKE_TIMEOUT_MS} ms`)));
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
          (subprotocol ? `Sec-WebSocket-Protocol: ${subprotocol}\r\n` : '') +
          '\r\n',
      );
    });
  }

  /** Calls `handler` with each text or binary message the server sends. */
  set onMessage(handler: MessageHandler) {
    this.handler = handler;
    const early = this.early;
    this.early = [];
    for (const payload of early) {
      handler(payload, 0, payload.length);
    }
  }

  /** Writes frames made by `clientFrame` (several may be concatenated). */
  write(frames: Buffer): void {
    this.socket.write(frames);
  }

  /** Closes the connection without the closing handshake: the run is over. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Parses what arrived; the writes its handlers make go out together, in one syscall. */
  private read(chunk: Buffer): void {
    this.socket.cork();
    try {
      this.parse(chunk);
    } finally {
      this.socket.uncork();
    }
  }

  private parse(chunk: Buffer): void {
    let buffer = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let offset = 0;
    while (buffer.length - offset >= 2) {
      const opcode = buffer[offset] & 0x0f;
      let length = buffer[offset + 1] & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        if (buffer.length - offset < 4) break;
        length = buffer.readUInt16BE(offset + 2);
        start = offset + 4;
      } else if (length === 127) {
        if (buffer.length - offset < 10) break;
        length = buffer.readUIntBE(offset + 4, 6);
        start = offset + 10;
      }
      const end = start + length;
      if (end > buffer.length) break;
      offset = end;
      if (opcode === 0x1 || opcode === 0x2) {
        if (this.handler) {
          this.handler(buffer, start, end);
        } else {
          this.early.push(Buffer.from(buffer.subarray(start, end)));
        }
      } else if (opcode === 0x9) {
        this.write(clientFrame(buffer.subarray(start, end), 0xa));
        this.onPing?.();
      } else if (opcode === 0x8) {
        this.destroy();
        return;
      }
    }
    if (offset < buffer.length) {
      buffer = buffer.subarray(offset);
      this.rest = Buffer.from(buffer);
    }
  }
}

/**
 * Receives one message: the bytes from `start` to `end` of `data`. No view is made per
 * message, as that would cost the load generator an allocation per frame.
 */
export type MessageHandler = (data: Buffer, start: number, end: number) => void;

/** Whether the message from `start` to `end` of `data` is exactly `expected`. */
export function isMessage(expected: Buffer, data: Buffer, start: number, end: number): boolean {
  return end - start === expected.length && expected.compare(data, start, end) === 0;
}

/** A fixed, non-zero masking key, so that the server unmasks as it would for a browser. */
const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** One masked client frame (text by default), ready to be written as often as needed. */
export function clientFrame(data: string | Buffer, opcode = 0x1): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const extended = payload.length > 0xffff ? 8 : payload.length > 125 ? 2 : 0;
  const frame = Buffer.alloc(2 + extended + 4 + payload.length);
  frame[0] = 0x80 | opcode;
  if (extended === 8) {
    frame[1] = 0x80 | 127;
    frame.writeUIntBE(payload.length, 4, 6);
  } else if (extended === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payload.length, 2);
  } else {
    frame[1] = 0x80 | payload.length;
  }
  const maskAt = 2 + extended;
  MASK.copy(frame, maskAt);
  for (let index = 0; index < payload.length; index++) {
    frame[maskAt + 4 + index] = payload[index] ^ MASK[index & 3];
  }
  return frame;
}
