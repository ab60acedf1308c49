import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { CLOSE_CODES, fitCloseReason } from '../protocol/close-codes.js';
import type { Message } from '../protocol/message.js';
import { answerFor } from '../protocol/notices.js';
import { ACKNOWLEDGED_SUBPROTOCOL, type AnswerDetails, type NoticeSubject, type StreamPosition } from '../protocol/rules.js';
import { droppedEvent } from '../protocol/server-events.js';
import { describeError } from '../utils/describe-error.js';
import { EasyWsSession } from './easy-ws-session.js';
import type { SessionLimits } from './endpoint-options.js';
import type { EndpointStats } from './endpoint-stats.js';
import { drained, writeMessage } from './frame-writer.js';
import type { SlowConsumerPolicy } from './interfaces/endpoint-options.interface.js';
import { RateLimiter } from './rate-limiter.js';
import { WriteBacklog } from './write-backlog.js';

/** How many received frames may wait for their turn before the socket stops reading. */
const INBOX_HIGH_WATER = 64;

/** How often a session that dropped frames kept in history checks whether its client reads again, in milliseconds. */
const DROPPED_CHECK_INTERVAL = 50;

/** What `channels` gives for a session that never listened, so that reading it costs nothing. */
const NO_CHANNELS: ReadonlySet<string> = new Set();

/** Who a session is, as the handshake (and later a refresh) established it. */
export interface Credentials {
  readonly token: string | undefined;
  readonly data: Record<string, unknown>;
  readonly userId: string | undefined;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number | undefined;
}

/**
 * Handles one frame of a session: at once, returning nothing, or returning a promise
 * that settles once the frame has been handled.
 */
export type FrameHandler = (frame: Buffer, isBinary: boolean) => Promise<void> | undefined;

const logger = new Logger('EasyWs');

/**
 * A random UUID v4 as one flat string: Node builds `randomUUID()` by concatenation, and
 * kept as it comes, for the session's life, it is a rope of 16 strings, some 500 bytes.
 */
export function newSessionId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

/**
 * The engine's side of one connection: the `EasyWsSession` an application sees, and
 * what the library does with it: frames handed on one at a time in the order they
 * arrived (reading pauses while too many wait), writes bounded for a slow reader,
 * the rate limit, the heartbeat, and a graceful finish at shutdown.
 */
export class Session extends EasyWsSession {
  token: string | undefined;
  data: Record<string, unknown>;
  readonly userId: string | undefined;
  expiresAt: number | undefined;
  readonly acknowledged: boolean;
  /** Frames waiting for their turn while another is handled, flattened as frame, isBinary, frame, … */
  private readonly inbox: Array<Buffer | boolean> = [];
  /** True while a frame (or the open hooks) is being handled: frames that arrive meanwhile wait in the inbox. */
  private busy = true;
  private handleFrame: FrameHandler | undefined;
  private closing: AbortController | undefined;
  /** The frames being handled now, and those waiting; settles when the session is idle. */
  private work: Promise<void> = Promise.resolve();
  /** Set on shutdown: no more reading, only the frames already received are handled. */
  private finishing = false;
  private answeredPing = true;
  private dropped = 0;
  private readonly rateLimiter: RateLimiter | undefined;
  /** What `onceClosed` was given, in order; one socket listener serves them all, as each `once` costs a wrapper per connection. */
  private closeCallbacks: Array<() => void> | undefined;
  /** Made on the first listen: most sessions never listen, and an empty Set costs some 150 bytes each. */
  private channelSet: Set<string> | undefined;
  /** The last frame of each channel with history that the `'drop'` policy dropped, told to the client once it reads again. */
  private droppedPositions: Map<string, StreamPosition> | undefined;
  /** While `maxBufferedBytes` or more wait for the client: whether it catches up in time. */
  private backlog: WriteBacklog | undefined;

  constructor(
    readonly id: string,
    credentials: Credentials,
    readonly headers: IncomingHttpHeaders,
    readonly remoteAddress: string | undefined,
    private readonly socket: WebSocket,
    readonly limits: SessionLimits,
    private readonly stats: EndpointStats,
  ) {
    super();
    this.token = credentials.token;
    this.data = credentials.data;
    this.userId = credentials.userId;
    this.expiresAt = credentials.expiresAt;
    this.acknowledged = socket.protocol === ACKNOWLEDGED_SUBPROTOCOL;
    this.rateLimiter = limits.rateLimit && new RateLimiter(limits.rateLimit, performance.now());
    socket.on('message', (frame: Buffer, isBinary: boolean) => this.receive(frame, isBinary));
    socket.on('pong', () => {
      this.answeredPing = true;
    });
    // A client that breaks the WebSocket protocol (invalid UTF-8, an oversized frame)
    // is closed by ws with the matching code; without a listener the error would crash the process.
    socket.on('error', (error: Error) => logger.debug(`Closed a connection that broke the protocol: ${error.message}`));
    socket.on('close', (code: number) => this.hasClosed(code));
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  get channels(): ReadonlySet<string> {
    return this.channelSet ?? NO_CHANNELS;
  }

  /** The channels this session listens to, to change; only the session registry changes it. */
  get listening(): Set<string> {
    return (this.channelSet ??= new Set());
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  get droppedFrames(): number {
    return this.dropped;
  }

  send(message: Message, slowConsumer?: SlowConsumerPolicy): void {
    if (this.isOpen && this.canWrite(slowConsumer ?? this.limits.slowConsumer, message.frame.length)) {
      writeMessage(this.socket, message);
      this.stats.framesSent++;
    }
  }

  /**
   * Sends a frame kept in a channel's history, right after the notice of its position,
   * so that the client reads them together; the two are dropped together too.
   */
  sendPositioned(channel: string, position: StreamPosition, notice: Message, message: Message, slowConsumer?: SlowConsumerPolicy): void {
    if (!this.isOpen) {
      return;
    }
    if (this.canWrite(slowConsumer ?? this.limits.slowConsumer, notice.frame.length + message.frame.length)) {
      writeMessage(this.socket, notice);
      writeMessage(this.socket, message);
      this.stats.framesSent += 2;
    } else {
      this.noteDropped(channel, position);
    }
  }

  /**
   * Resolves once fewer than `maxBufferedBytes` wait to be sent to the client, so that
   * what the client asked for (frames it missed) is sent at the pace it reads instead
   * of being dropped; resolves false once the connection has closed.
   */
  async writable(): Promise<boolean> {
    while (this.isOpen && this.socket.bufferedAmount >= this.limits.maxBufferedBytes) {
      await drained(this.socket);
    }
    return this.isOpen;
  }

  /**
   * A dropped frame of a channel with history is recovered by the client when it sees
   * the gap in the offsets; when no later frame comes to show it, the client is told of
   * the last one dropped, once it reads again.
   */
  private noteDropped(channel: string, position: StreamPosition): void {
    if (!this.droppedPositions) {
      this.droppedPositions = new Map();
      setTimeout(() => this.tellDropped(), DROPPED_CHECK_INTERVAL).unref();
    }
    this.droppedPositions.set(channel, position);
  }

  private tellDropped(): void {
    if (!this.isOpen || !this.droppedPositions) {
      this.droppedPositions = undefined;
      return;
    }
    if (this.socket.bufferedAmount >= this.limits.maxBufferedBytes) {
      setTimeout(() => this.tellDropped(), DROPPED_CHECK_INTERVAL).unref();
      return;
    }
    const dropped = this.droppedPositions;
    this.droppedPositions = undefined;
    for (const [channel, position] of dropped) {
      this.send(droppedEvent(channel, position));
    }
  }

  /** Sends the notice that answers `subject`, if the session's mode has one: `error` for a failure, `details` with a success. */
  notify(subject: NoticeSubject, error?: string, details?: AnswerDetails): void {
    const answer = answerFor(this.acknowledged, subject, error, details);
    if (error !== undefined) {
      this.stats.noticed(error);
    }
    if (answer) {
      this.send(answer);
    }
  }

  /**
   * Whether another frame may be written now: while fewer than `maxBufferedBytes` wait
   * for the client, or while it catches up on a backlog (`WriteBacklog`). Once it counts
   * as slow, the policy applies: the frame is dropped (and counted) or the session is
   * closed, so that a slow client costs bounded memory and never holds up others.
   */
  private canWrite(slowConsumer: SlowConsumerPolicy, frameBytes: number): boolean {
    const { maxBufferedBytes, slowConsumerGrace } = this.limits;
    if (this.socket.bufferedAmount < maxBufferedBytes) {
      this.backlog = undefined;
      return true;
    }
    const now = performance.now();
    this.backlog ??= new WriteBacklog(maxBufferedBytes, slowConsumerGrace, now);
    if (this.backlog.admits(frameBytes, now)) {
      return true;
    }
    if (slowConsumer === 'drop') {
      this.dropped += 1;
      this.stats.framesDropped++;
    } else {
      this.stats.slowConsumerCloses++;
      this.close(CLOSE_CODES.slowConsumer, 'slow consumer');
    }
    return false;
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason === undefined ? undefined : fitCloseReason(reason));
    // The client's answer to the close must be read even where reading was paused;
    // what else arrives now is not handled (see receive).
    this.socket.resume();
  }

  /** Drops the connection at once, without the closing handshake; the close hooks run as usual. */
  terminate(): void {
    this.socket.terminate();
  }

  onceClosed(callback: () => void): void {
    if (this.socket.readyState === this.socket.CLOSED) {
      callback();
    } else {
      // Copied rather than pushed: a pushed array reserves room for 17 callbacks per session.
      this.closeCallbacks = this.closeCallbacks ? this.closeCallbacks.concat(callback) : [callback];
    }
  }

  /** Aborts once the connection has closed, so that work done for the session (an Observable reply, say) can stop. */
  get closed(): AbortSignal {
    if (!this.closing) {
      const closing = (this.closing = new AbortController());
      this.onceClosed(() => closing.abort());
    }
    return this.closing.signal;
  }

  /** Sends the socket's frames, in order, to `handler` once `opening` has settled. */
  serve(handler: FrameHandler, opening: Promise<void>): void {
    this.handleFrame = handler;
    this.work = opening
      .catch((error: unknown) => {
        logger.error('Opening a session failed', describeError(error));
        this.close(CLOSE_CODES.internalError, 'internal server error');
      })
      .then(() => this.drain());
  }

  /**
   * Takes one frame from the rate limit. Returns false when the frame must not be
   * handled; a client that keeps sending over the limit is closed with 1008.
   */
  admitFrame(): boolean {
    const verdict = this.rateLimiter?.take(performance.now()) ?? 'pass';
    if (verdict === 'pass') {
      return true;
    }
    this.stats.rateLimited++;
    if (verdict === 'abusive') {
      this.close(CLOSE_CODES.policyViolation, 'rate limit exceeded');
    }
    return false;
  }

  /**
   * One heartbeat: pings the client, or, when it has not answered the previous ping,
   * drops the connection (its close hooks then run as usual).
   */
  heartbeat(): void {
    if (!this.answeredPing) {
      this.terminate();
    } else if (this.isOpen) {
      this.answeredPing = false;
      this.socket.ping();
    }
  }

  /** For shutdown: stops reading from the client and resolves once every frame already received has been handled and its replies sent. */
  async finish(): Promise<void> {
    this.finishing = true;
    this.socket.pause();
    let work: Promise<void>;
    do {
      work = this.work;
      await work;
    } while (work !== this.work);
  }

  private hasClosed(code: number): void {
    this.stats.closed(code);
    const callbacks = this.closeCallbacks ?? [];
    this.closeCallbacks = undefined;
    for (const callback of callbacks) {
      callback();
    }
  }

  private receive(frame: Buffer, isBinary: boolean): void {
    if (!this.isOpen) {
      return; // closing: it would never be handled, so it must not take memory
    }
    if (this.busy) {
      this.inbox.push(frame, isBinary);
      if (this.inbox.length === INBOX_HIGH_WATER * 2) {
        this.socket.pause();
      }
      return;
    }
    // Nothing waits, so the frame goes to its handler at once; the session stays
    // busy only if the handler is still at work when it returns.
    this.busy = true;
    const handling = this.handle(frame, isBinary);
    if (handling) {
      this.work = handling.then(() => this.drain());
    } else {
      this.busy = false;
    }
  }

  /**
   * Handles the waiting frames one at a time, in order: at once while their handlers
   * finish at once, else each after the one before has settled. Reading pauses while
   * too many wait, so nothing is dropped.
   */
  private drain(): Promise<void> | undefined {
    for (;;) {
      if (this.socket.isPaused && !this.finishing && this.inbox.length <= INBOX_HIGH_WATER) {
        this.socket.resume();
      }
      if (this.inbox.length === 0 || !this.isOpen || !this.handleFrame) {
        break;
      }
      const frame = this.inbox.shift() as Buffer;
      const isBinary = this.inbox.shift() as boolean;
      const handling = this.handle(frame, isBinary);
      if (handling) {
        return (this.work = handling.then(() => this.drain()));
      }
    }
    this.inbox.length = 0;
    this.busy = false;
    return undefined;
  }

  /** Hands one frame to the handler; a failure is contained to its frame, so the next one is handled. */
  private handle(frame: Buffer, isBinary: boolean): Promise<void> | undefined {
    try {
      return (this.handleFrame as FrameHandler)(frame, isBinary)?.catch(logFrameFailure);
    } catch (error) {
      logFrameFailure(error);
      return undefined;
    }
  }
}

function logFrameFailure(error: unknown): void {
  logger.error('Handling a frame failed', describeError(error));
}
