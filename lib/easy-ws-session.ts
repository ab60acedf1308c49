import type { IncomingHttpHeaders } from 'node:http';
import type { WebSocket } from 'ws';
import { ACKNOWLEDGED_SUBPROTOCOL } from './constants.js';
import { writeMessage } from './frame-writer.js';
import { Message, type MessageData } from './message.js';

/** How many received frames may wait for their turn before the socket stops reading. */
const INBOX_HIGH_WATER = 64;

/** Handles one frame of a session. */
export type FrameHandler = (frame: Buffer, isBinary: boolean) => Promise<void>;

/**
 * One client connection: what `@ConnectedSocket()` and `switchToWs().getClient()` give.
 */
export class EasyWsSession {
  /** Application data for this session (the user `authenticate` found, say). */
  readonly data: Record<string, unknown>;
  /** Whether the client chose acknowledged mode (subprotocol `easy-ws.v1`). */
  readonly acknowledged: boolean;
  /** Frames waiting for their turn, flattened as frame, isBinary, frame, … */
  private readonly inbox: Array<Buffer | boolean> = [];
  /** True while a frame (or the open hooks) is being handled. */
  private busy = true;
  private handleFrame: FrameHandler | undefined;
  private closing: AbortController | undefined;
  /** What `onceClosed` was given, in order; one socket listener serves them all, as each `once` costs a wrapper per connection. */
  private closeCallbacks: Array<() => void> | undefined;
  /** Made on the first listen: most sessions never listen, and an empty Set costs some 150 bytes each. */
  private channelSet: Set<string> | undefined;

  /** @internal The library makes sessions; applications receive them. */
  constructor(
    /** The session id: a random UUID v4, lower case. */
    readonly id: string,
    /** The auth token the client sent, if any. */
    readonly token: string | undefined,
    /** The headers of the upgrade request. */
    readonly headers: IncomingHttpHeaders,
    /** The client's address, as the socket saw it. */
    readonly remoteAddress: string | undefined,
    private readonly socket: WebSocket,
    data: Record<string, unknown> = {},
  ) {
    this.data = data;
    this.acknowledged = socket.protocol === ACKNOWLEDGED_SUBPROTOCOL;
    socket.on('message', (frame: Buffer, isBinary: boolean) => this.receive(frame, isBinary));
    socket.on('close', () => this.hasClosed());
  }

  /** The subprotocol agreed in the handshake, or `''` for none. */
  get protocol(): string {
    return this.socket.protocol;
  }

  /** The channels this session listens to. */
  get channels(): ReadonlySet<string> {
    return this.listening;
  }

  /** @internal The channels this session listens to; only the registry changes it. */
  get listening(): Set<string> {
    return (this.channelSet ??= new Set());
  }

  /** Whether the connection is open, so that frames can still reach the client. */
  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /**
   * Sends one frame to this client; does nothing once the connection is closing.
   * Frames sent in the same tick leave together, once the tick's work is done.
   */
  send(message: Message): void {
    if (this.isOpen) {
      writeMessage(this.socket, message);
    }
  }

  /**
   * Sends `event: data`, so that filters written for Nest gateways (such as
   * `BaseWsExceptionFilter`, which calls `client.emit('exception', …)`) work unchanged.
   */
  emit(event: string, data?: MessageData): void {
    this.send(new Message(event, data));
  }

  /** Closes the connection; the close hooks run once it has closed. */
  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  /** Calls `callback` once the connection has closed (at once if it has already). */
  onceClosed(callback: () => void): void {
    if (this.socket.readyState === this.socket.CLOSED) {
      callback();
    } else {
      // Copied rather than pushed: a pushed array reserves room for 17 callbacks per session.
      this.closeCallbacks = this.closeCallbacks ? this.closeCallbacks.concat(callback) : [callback];
    }
  }

  /**
   * @internal Aborts once the connection has closed, so that work done for the
   * session (an Observable reply, say) can stop.
   */
  get closed(): AbortSignal {
    if (!this.closing) {
      this.closing = new AbortController();
      if (this.socket.readyState === this.socket.CLOSED) {
        this.closing.abort();
      }
    }
    return this.closing.signal;
  }

  /** @internal Sends the socket's frames, in order, to `handler` once `opening` has settled. */
  serve(handler: FrameHandler, opening: Promise<void>): void {
    this.handleFrame = handler;
    void opening.then(() => this.drain());
  }

  private hasClosed(): void {
    this.closing?.abort();
    const callbacks = this.closeCallbacks ?? [];
    this.closeCallbacks = undefined;
    for (const callback of callbacks) {
      callback();
    }
  }

  private receive(frame: Buffer, isBinary: boolean): void {
    this.inbox.push(frame, isBinary);
    if (this.inbox.length === INBOX_HIGH_WATER * 2) {
      this.socket.pause();
    }
    if (!this.busy) {
      void this.drain();
    }
  }

  /** Handles waiting frames one at a time; reading pauses while too many wait, so nothing is dropped. */
  private async drain(): Promise<void> {
    this.busy = true;
    while (this.inbox.length > 0 && this.socket.readyState === this.socket.OPEN && this.handleFrame) {
      const frame = this.inbox.shift() as Buffer;
      const isBinary = this.inbox.shift() as boolean;
      await this.handleFrame(frame, isBinary);
      if (this.socket.isPaused && this.inbox.length <= INBOX_HIGH_WATER) {
        this.socket.resume();
      }
    }
    this.inbox.length = 0;
    this.busy = false;
  }
}
