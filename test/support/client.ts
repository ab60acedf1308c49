import { once } from 'node:events';
import WebSocket from 'ws';

/** A frame as the test client received it. */
export interface ReceivedFrame {
  readonly text: string;
  readonly binary: boolean;
}

/**
 * A real WebSocket client that queues every frame it receives, so a test can
 * await the next one instead of sleeping.
 */
export class TestClient {
  private readonly frames: ReceivedFrame[] = [];
  private readonly waiting: Array<(frame: ReceivedFrame) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, binary: boolean) => {
      const frame = { text: data.toString(), binary };
      const waiter = this.waiting.shift();
      if (waiter) {
        waiter(frame);
      } else {
        this.frames.push(frame);
      }
    });
    this.closed = once(socket, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  }

  /** Opens a connection and waits until it is open. */
  static async connect(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<TestClient> {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    const client = new TestClient(socket);
    await once(socket, 'open');
    return client;
  }

  /** Sends one text frame. */
  send(frame: string | Buffer, binary = false): void {
    this.socket.send(frame, { binary });
  }

  /** The next frame's text; rejects if the connection closes first. */
  async next(): Promise<string> {
    return (await this.nextFrame()).text;
  }

  /** The next frame, with its type. */
  nextFrame(): Promise<ReceivedFrame> {
    const queued = this.frames.shift();
    if (queued) {
      return Promise.resolve(queued);
    }
    return new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      void this.closed.then(({ code }) => reject(new Error(`connection closed (${code}) while waiting for a frame`)));
    });
  }

  /** Sends `command: data` and returns the next frame. */
  async request(frame: string): Promise<string> {
    this.send(frame);
    return this.next();
  }

  /** Closes the connection and waits until it has closed. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) {
      this.socket.close();
      await this.closed;
    }
  }
}
