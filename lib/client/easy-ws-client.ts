import { withCode } from '../protocol/errors.js';
import {
  ACKNOWLEDGED_SUBPROTOCOL,
  type Acknowledgement,
  commandProblem,
  LEGACY_SUBPROTOCOL,
  MAX_CHANNEL_BYTES,
  NOTICE_COMMAND,
  type PresenceMember,
  parseTextFrame,
  type ServerEvent,
  type StreamPosition,
  utf8ByteLength,
} from '../protocol/rules.js';
import { ChannelPositions, type PositionVerdict } from './channel-positions.js';
import { ChannelRequests, noticeOf, type PendingAnswer, parseNotice } from './channel-requests.js';
import { ClientEvents, type EasyWsClientEvents, type EasyWsClientState } from './client-events.js';
import { type PresenceChange, PresenceView } from './presence-view.js';
import { TokenRefresh } from './token-refresh.js';
import { type EasyWsClientOptions, reconnectDelay, type ResolvedClientOptions, resolveClientOptions } from './client-options.js';
import { OPEN, type WebSocketCloseEvent, type WebSocketLike } from './websocket-like.js';

const NORMAL_CLOSURE = 1000;

/**
 * A client of the command protocol for browsers and Node.
 *
 * It offers acknowledged mode (`easy-ws.v1`), so that `listen` and `unlisten`
 * settle with the server's answer. It reconnects with exponential backoff and
 * jitter, listens again to every channel it listened to, and keeps frames sent
 * while disconnected in a bounded queue. Against a server that only speaks the
 * original protocol (`cmd.fossores.de`), `listen` and `unlisten` resolve once
 * sent, and every notice arrives as a `notice` event.
 */
export class EasyWsClient {
  private readonly url: string;
  private readonly options: ResolvedClientOptions;
  private readonly handlers = new Map<string, Set<(data: string) => void>>();
  private readonly events = new ClientEvents();
  private readonly positions = new ChannelPositions();
  private readonly channelRequests = new ChannelRequests(this.events, (channel) => this.positions.get(channel));
  private readonly presenceView = new PresenceView();
  private readonly tokenRefresh: TokenRefresh;
  private queue: string[] = [];
  /** What to do with the next frame, as the position notice before it said. */
  private nextFrame: PositionVerdict | undefined;

  private socket: WebSocketLike | undefined;
  private currentState: EasyWsClientState = 'connecting';
  private attempt = 0;
  /** Whether a connection has been announced as open before, so the next one is a reconnect. */
  private hasOpened = false;
  /** Whether the current connection is open but not announced yet: re-listens are unanswered. */
  private openPending = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Set by `close()`: the client's life is over. */
  private closing: Promise<void> | undefined;

  /**
   * Connects at once; while the first connection opens, frames wait in the queue.
   * @param url the endpoint, such as `wss://example.com/ws`.
   * @throws TypeError without a WebSocket constructor, RangeError for an option out of range (`EASY_WS_INVALID_OPTIONS`).
   */
  constructor(url: string | URL, options: EasyWsClientOptions = {}) {
    this.url = String(url);
    this.options = resolveClientOptions(options);
    this.tokenRefresh = new TokenRefresh(this.options.refreshToken, this.events);
    this.connect();
  }

  /** Where the client is in its life. */
  get state(): EasyWsClientState {
    return this.currentState;
  }

  /** The channels the server has confirmed this client listens to. */
  get channels(): ReadonlySet<string> {
    return this.channelRequests.listening;
  }

  /**
   * Sends `command: data`. While the client is not connected the frame waits in the
   * queue; the next connection sends the queue in order, right after the frames
   * that listen again, so the server handles it once the client listens again.
   * @throws TypeError (`EASY_WS_INVALID_ARGUMENT`) for a command the protocol does not allow;
   *   Error when the client is closed (`EASY_WS_CLIENT_CLOSED`) or the queue is full (`EASY_WS_QUEUE_FULL`).
   */
  send(command: string, data = ''): void {
    const problem = commandProblem(command);
    if (problem) {
      throw withCode(new TypeError(`EasyWsClient: cannot send ${JSON.stringify(command)}: ${problem}`), 'EASY_WS_INVALID_ARGUMENT');
    }
    this.write(`${command}: ${data}`);
  }

  /** Sends `command: <value as JSON>`, with the same queueing and errors as `send`. */
  sendJson(command: string, value: unknown): void {
    const json = JSON.stringify(value);
    if (json === undefined) {
      throw withCode(new TypeError(`EasyWsClient: the data of ${JSON.stringify(command)} cannot be written as JSON`), 'EASY_WS_INVALID_ARGUMENT');
    }
    this.send(command, json);
  }

  /**
   * Calls `handler` with the data of every frame whose command is `command`.
   * @returns a function that removes the handler.
   * @throws TypeError (`EASY_WS_INVALID_ARGUMENT`) for a command the protocol does not allow (notices come as the `notice` event).
   */
  on(command: string, handler: (data: string) => void): () => void {
    const problem = commandProblem(command);
    if (problem) {
      throw withCode(new TypeError(`EasyWsClient: cannot handle ${JSON.stringify(command)}: ${problem}`), 'EASY_WS_INVALID_ARGUMENT');
    }
    let handlers = this.handlers.get(command);
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(command, handlers);
    }
    handlers.add(handler);
    const added = handlers;
    return () => {
      added.delete(handler);
      if (added.size === 0 && this.handlers.get(command) === added) {
        this.handlers.delete(command);
      }
    };
  }

  /** Like `on`, with the data parsed as JSON; data that is not JSON goes to the `error` event. */
  onJson<T = unknown>(command: string, handler: (value: T) => void): () => void {
    return this.on(command, (data) => handler(JSON.parse(data) as T));
  }

  /**
   * Calls `handler` on each `event` of the client.
   * @returns a function that removes the handler.
   */
  onEvent<K extends keyof EasyWsClientEvents>(event: K, handler: (event: EasyWsClientEvents[K]) => void): () => void {
    return this.events.on(event, handler);
  }

  /**
   * Listens to `channel`; after a reconnect the client listens to it again by itself,
   * from where it stood in the channel's history, so that it gets what it missed. While
   * disconnected, the request goes out once connected.
   * @param options.since a position kept from an earlier page (`position(channel)`): the
   *   client gets the frames after it first, and a `recovery` event says whether all.
   * @returns a promise that resolves once the server confirmed, and rejects with an
   *   `EasyWsNoticeError` whose message is the server's notice text when it refused, or
   *   with a `RangeError` (`EASY_WS_INVALID_ARGUMENT`) at once for a channel name that is
   *   not 1 to 255 bytes, which no channel can have.
   */
  listen(channel: string, options: { readonly since?: StreamPosition } = {}): Promise<void> {
    if (options.since !== undefined && !this.channelRequests.listening.has(channel)) {
      this.positions.set(channel, options.since);
    }
    return this.request('listen', channel);
  }

  /**
   * Where the client stands in the history of `channel`: the epoch and the offset of
   * the last frame it delivered; `undefined` for a channel without history, or before
   * the server said. Keep it to listen from there later (`listen(channel, { since })`).
   */
  position(channel: string): StreamPosition | undefined {
    return this.positions.get(channel);
  }

  /**
   * The members of a presence channel the client listens to, as the server last told
   * (kept up to date by the `join` and `leave` events, brought up to date after a
   * reconnect); `undefined` for a channel without presence.
   */
  presence(channel: string): PresenceMember[] | undefined {
    return this.presenceView.members(channel);
  }

  /** Stops listening to `channel`; settles like `listen`. */
  unlisten(channel: string): Promise<void> {
    return this.request('unlisten', channel);
  }

  /**
   * Closes the connection for good: no reconnect follows. Queued frames are
   * dropped and unanswered `listen`/`unlisten` promises reject.
   * @param code 1000, or an application's code from 3000 to 4999, as WebSocket allows.
   * @returns a promise that resolves once the connection has closed.
   * @throws RangeError (`EASY_WS_INVALID_ARGUMENT`) for a code WebSocket does not allow.
   */
  close(code = NORMAL_CLOSURE, reason = ''): Promise<void> {
    if (code !== NORMAL_CLOSURE && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw withCode(new RangeError(`EasyWsClient: a close code is 1000 or 3000 to 4999, got ${code}`), 'EASY_WS_INVALID_ARGUMENT');
    }
    if (!this.closing) {
      clearTimeout(this.timer);
      this.stop(new Error('EasyWsClient was closed before the server answered'));
      const socket = this.socket;
      this.closing = socket ? new Promise((resolve) => socket.addEventListener('close', () => resolve())) : Promise.resolve();
      socket?.close(code, reason);
    }
    return this.closing;
  }

  private connect(): void {
    const socket = new this.options.WebSocket(this.url, [ACKNOWLEDGED_SUBPROTOCOL, LEGACY_SUBPROTOCOL]);
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => this.onOpen(socket));
    socket.addEventListener('message', (event) => this.receive(event.data));
    // A failed handshake or a lost connection also ends with `close`, which decides what follows.
    socket.addEventListener('error', () => undefined);
    socket.addEventListener('close', (event) => this.onClose(event));
  }

  private onOpen(socket: WebSocketLike): void {
    if (this.closing) {
      return;
    }
    this.currentState = 'open';
    this.attempt = 0;
    this.openPending = true;
    this.channelRequests.resend(socket);
    const queued = this.queue;
    this.queue = [];
    for (const frame of queued) {
      socket.send(frame);
    }
    this.announceOpen();
  }

  /** Emits `open` once the new connection has no re-listen left unanswered. */
  private announceOpen(): void {
    if (this.openPending && !this.channelRequests.relistening) {
      this.openPending = false;
      this.events.emit('open', { reconnected: this.hasOpened });
      this.hasOpened = true;
    }
  }

  private onClose(event: WebSocketCloseEvent): void {
    this.socket = undefined;
    this.nextFrame = undefined;
    this.channelRequests.connectionLost();
    this.positions.connectionLost();
    this.openPending = false;
    const { reconnect } = this.options;
    const willReconnect = !this.closing && reconnect !== false && this.attempt < reconnect.maxAttempts;
    if (!willReconnect) {
      this.stop(new Error('EasyWsClient: the connection closed for good before the server answered'));
    }
    this.events.emit('close', { code: event.code, reason: event.reason, willReconnect });
    if (willReconnect) {
      this.attempt++;
      const delay = reconnectDelay(reconnect, this.attempt, this.options.random);
      this.currentState = 'reconnecting';
      this.events.emit('reconnecting', { attempt: this.attempt, delay });
      this.timer = setTimeout(() => this.connect(), delay);
    }
  }

  /** Ends the client's life: nothing is sent any more and every open request fails with `error`. */
  private stop(error: Error): void {
    this.currentState = 'closed';
    this.queue = [];
    this.channelRequests.fail(error);
  }

  private request(op: 'listen' | 'unlisten', channel: string): Promise<void> {
    if (typeof channel !== 'string') {
      return Promise.reject(withCode(new TypeError(`EasyWsClient: ${op} needs a channel name, got ${typeof channel}`), 'EASY_WS_INVALID_ARGUMENT'));
    }
    // No such channel can exist, and the server's answer names only a prefix of a longer name.
    if (channel.length === 0 || utf8ByteLength(channel) > MAX_CHANNEL_BYTES) {
      return Promise.reject(withCode(new RangeError(`EasyWsClient: a channel name is 1 to ${MAX_CHANNEL_BYTES} bytes, got ${utf8ByteLength(channel)}`), 'EASY_WS_INVALID_ARGUMENT'));
    }
    if (this.currentState === 'closed') {
      return Promise.reject(withCode(new Error(`EasyWsClient: cannot ${op}, the client is closed`), 'EASY_WS_CLIENT_CLOSED'));
    }
    return this.channelRequests.request(op, channel, this.socket?.readyState === OPEN ? this.socket : undefined);
  }

  private write(frame: string): void {
    if (this.currentState === 'closed') {
      throw withCode(new Error('EasyWsClient: cannot send, the client is closed'), 'EASY_WS_CLIENT_CLOSED');
    }
    if (this.socket?.readyState === OPEN) {
      this.socket.send(frame);
    } else if (this.queue.length < this.options.maxQueuedFrames) {
      this.queue.push(frame);
    } else {
      throw withCode(
        new Error(`EasyWsClient: cannot send while disconnected, the queue is full (${this.options.maxQueuedFrames} frames)`),
        'EASY_WS_QUEUE_FULL',
      );
    }
  }

  private receive(data: unknown): void {
    const frame = parseTextFrame(typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer));
    if (!frame) {
      this.events.report(new Error('the server sent a frame with no command'));
    } else if (frame.command === NOTICE_COMMAND) {
      this.receiveNotice(frame.data);
    } else {
      const verdict = this.nextFrame;
      this.nextFrame = undefined;
      if (verdict && !verdict.deliver) {
        return; // delivered already, or to come again in order from a recovery
      }
      for (const handler of this.handlers.get(frame.command) ?? []) {
        try {
          handler(frame.data);
        } catch (error) {
          this.events.report(error, frame.command);
        }
      }
    }
  }

  private receiveNotice(text: string): void {
    const notice = this.socket?.protocol === ACKNOWLEDGED_SUBPROTOCOL ? parseNotice(text) : undefined;
    if (!notice) {
      this.events.emit('notice', { text });
    } else if ('event' in notice) {
      this.receiveEvent(notice.event);
    } else {
      this.receiveAnswer(notice.answer);
    }
  }

  private receiveAnswer(answer: Acknowledgement): void {
    const answered = this.channelRequests.answer(answer);
    if (answered) {
      this.afterChannelAnswer(answered, answer);
      this.announceOpen();
    } else if (answer.op === 'recover' && answer.ok) {
      this.settlePosition(answer.channel, answer);
    } else if (answer.op === 'refresh' && answer.ok) {
      this.events.emit('refreshed', answer.expiresAt === undefined ? {} : { expiresAt: answer.expiresAt });
    } else if (!answer.ok) {
      this.events.emit('notice', noticeOf(answer));
    }
  }

  /** What a listen's answer tells beyond yes or no: where the channel stands, whether the client recovered, who is there. */
  private afterChannelAnswer({ op, channel }: PendingAnswer, answer: Acknowledgement): void {
    if (!answer.ok || op === 'unlisten') {
      this.positions.forget(channel);
      this.presenceView.forget(channel);
      return;
    }
    this.settlePosition(channel, answer);
    if (answer.members) {
      this.announcePresence(channel, this.presenceView.reset(channel, answer.members));
    }
  }

  /** Takes the position a listen or recover answer gives; when frames it sent again were dropped on the way, recovers again. */
  private settlePosition(channel: string, answer: Extract<Acknowledgement, { ok: true }>): void {
    const recoverFrom = this.positions.settle(channel, answer.position, answer.recovered);
    if (recoverFrom) {
      this.requestRecovery(channel, recoverFrom);
    } else if (answer.recovered !== undefined) {
      this.events.emit('recovery', { channel, recovered: answer.recovered, ...(answer.missed !== undefined && { missed: answer.missed }) });
    }
  }

  private requestRecovery(channel: string, since: StreamPosition): void {
    this.socket?.send(`${NOTICE_COMMAND}: ${JSON.stringify({ op: 'recover', channel, since })}`);
  }

  private receiveEvent(event: ServerEvent): void {
    switch (event.event) {
      case 'position': {
        const { channel, epoch, offset } = event;
        const verdict = this.positions.next(channel, { epoch, offset });
        this.nextFrame = verdict;
        if (verdict.lost) {
          this.events.emit('recovery', { channel, recovered: false });
        }
        if (verdict.recoverFrom) {
          this.requestRecovery(channel, verdict.recoverFrom);
        }
        return;
      }
      case 'dropped': {
        const recoverFrom = this.positions.dropped(event.channel, { epoch: event.epoch, offset: event.offset });
        if (recoverFrom) {
          this.requestRecovery(event.channel, recoverFrom);
        }
        return;
      }
      case 'presence':
        return this.announcePresence(event.channel, this.presenceView.apply(event.channel, event.joins, event.leaves));
      case 'expiring':
        if (this.socket) {
          this.tokenRefresh.expiring(this.socket);
        }
        return;
      case 'left':
        this.channelRequests.listening.delete(event.channel);
        this.positions.forget(event.channel);
        this.presenceView.forget(event.channel);
        this.events.emit('left', { channel: event.channel, reason: event.reason });
        return;
    }
  }

  private announcePresence(channel: string, { joins, leaves }: PresenceChange): void {
    for (const member of leaves) {
      this.events.emit('leave', { channel, ...member });
    }
    for (const member of joins) {
      this.events.emit('join', { channel, ...member });
    }
  }
}
