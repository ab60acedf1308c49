import { once } from 'node:events';
import WebSocket from 'ws';
import { AsyncQueue } from './async-queue.js';

/** A frame as the test client received it. */
export interface ReceivedFrame {
  readonly text: string;
  readonly bytes: Buffer;
  readonly binary: boolean;
}

/** How a test client opens its connection. */
export interface ConnectOptions {
  /** Subprotocols to offer. */
  protocols?: string[];
  /** Extra headers of the upgrade request (`Cookie`, `Origin`, …). */
  headers?: Record<string, string>;
}

/** The canonical lower-case form of a UUID v4. */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A real WebSocket client that queues every frame it receives, so a test can
 * await the next one instead of sleeping.
 */
export class TestClient {
  private readonly frames = new AsyncQueue<ReceivedFrame>();
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, binary: boolean) => this.frames.push({ text: data.toString(), bytes: data, binary }));
    this.closed = new Promise((resolve) =>
      socket.once('close', (code: number, reason: Buffer) => {
        this.frames.fail(new Error(`connection closed (${code}) while waiting for a frame`));
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Opens a connection and waits until it is open. */
  static async connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    const client = new TestClient(socket);
    await once(socket, 'open');
    return client;
  }

  /** The subprotocol the server chose, `''` for none. */
  get protocol(): string {
    return this.socket.protocol;
  }

  /** How many received frames have not been taken yet. */
  get pending(): number {
    return this.frames.size;
  }

  /** Sends one frame, text unless `binary`. */
  send(frame: string | Buffer, binary = false): void {
    this.socket.send(frame, { binary });
  }

  /** The next frame's text; rejects if the connection closes first. */
  async next(): Promise<string> {
    return (await this.nextFrame()).text;
  }

  /** The next frame, with its type. */
  nextFrame(): Promise<ReceivedFrame> {
    return this.frames.next();
  }

  /** The texts of the frames still to come, once the connection has closed. */
  async remaining(): Promise<string[]> {
    await this.closed;
    const texts: string[] = [];
    while (this.frames.size > 0) {
      texts.push(await this.next());
    }
    return texts;
  }

  /** Sends `command: data` and returns the next frame. */
  async request(frame: string): Promise<string> {
    this.send(frame);
    return this.next();
  }

  /** Reads the greeting `welcome: Hello <session id>` and returns the id. */
  async sessionId(): Promise<string> {
    const greeting = await this.next();
    const id = /^welcome: Hello (.*)$/.exec(greeting)?.[1];
    if (id === undefined || !UUID_V4.test(id)) {
      throw new Error(`expected the greeting "welcome: Hello <uuid v4>", got ${JSON.stringify(greeting)}`);
    }
    return id;
  }

  /** Closes the connection and waits until it has closed. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) {
      this.socket.close();
      await this.closed;
    }
  }
}
