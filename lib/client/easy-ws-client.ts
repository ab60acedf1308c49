import {
  ACKNOWLEDGED_SUBPROTOCOL,
  type Acknowledgement,
  commandProblem,
  LEGACY_SUBPROTOCOL,
  NOTICE_COMMAND,
  parseTextFrame,
} from './protocol.js';

/** The message event of a WebSocket: text as a string, binary data as bytes. */
export interface WebSocketMessageEvent {
  readonly data: unknown;
}

/** The close event of a WebSocket. */
export interface WebSocketCloseEvent {
  readonly code: number;
  readonly reason: string;
}

/**
 * The part of the WebSocket API the client uses, which the browser's `WebSocket`,
 * Node's own (from Node 22) and the `ws` package all have.
 */
export interface WebSocketLike {
  readonly readyState: number;
  /** The subprotocol the server chose, `''` for none. */
  readonly protocol: string;
  binaryType: string;
  addEventListener(type: 'message', listener: (event: WebSocketMessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: WebSocketCloseEvent) => void): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `WebSocket` from the `ws` package. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** How the client reconnects after a connection is lost or could not be opened. */
export interface ReconnectOptions {
  /** The shortest wait before an attempt, in milliseconds. Default 500. */
  readonly minDelay?: number;
  /** The longest wait before an attempt, in milliseconds. Default 30 000. */
  readonly maxDelay?: number;
  /** How much the longest possible wait grows with each failed attempt. Default 2. */
  readonly factor?: number;
  /** How many attempts in a row may fail before the client gives up. Default: no limit. */
  readonly maxAttempts?: number;
}

/** Options of `EasyWsClient`. */
export interface EasyWsClientOptions {
  /** The WebSocket constructor. Default: `globalThis.WebSocket`; on Node 20 pass the `ws` package's. */
  readonly WebSocket?: WebSocketConstructor;
  /** How to reconnect, or `false` to stay closed once a connection is lost. */
  readonly reconnect?: ReconnectOptions | false;
  /**
   * How many frames `send` keeps while the client is not connected, to send them
   * once it is. When the queue is full, `send` throws. Default 100; 0 makes every
   * send while disconnected throw.
   */
  readonly maxQueuedFrames?: number;
  /** A source of random numbers in [0, 1) for the jitter of reconnect delays. Default `Math.random`. */
  readonly random?: () => number;
}

/** Where the client is in its life. */
export type EasyWsClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A server notice: a failure the server reported. */
export interface EasyWsNotice {
  /** The notice text, such as `not authorized` or `command not supported by server`. */
  readonly text: string;
  /**
   * What the notice answers, when the server says (acknowledged mode): `listen`,
   * `unlisten`, `command`, `frame` (a frame with no command) or `open` (the open hook).
   */
  readonly op?: Acknowledgement['op'];
  /** The channel of a `listen` or `unlisten`. */
  readonly channel?: string;
  /** The command of a `command`. */
  readonly command?: string;
}

/** The events of the client and what each handler receives. */
export interface EasyWsClientEvents {
  /**
   * A connection is open and every channel listened to before has been listened
   * to again (its answer arrived). `reconnected` is false for the first connection.
   */
  open: { readonly reconnected: boolean };
  /** A connection closed or could not be opened; `willReconnect` tells whether the client tries again. */
  close: { readonly code: number; readonly reason: string; readonly willReconnect: boolean };
  /** The client waits `delay` milliseconds, then makes attempt number `attempt` (from 1). */
  reconnecting: { readonly attempt: number; readonly delay: number };
  /**
   * A notice that no `listen` or `unlisten` promise took: a command or frame the
   * server refused, or a channel that could not be listened to again after a reconnect.
   */
  notice: EasyWsNotice;
  /**
   * Something could not be handed to the application: a handler threw, `onJson`
   * data was not JSON (both with the frame's `command`), an event handler threw, or
   * the server sent a frame with no command. Without a handler for this event, the
   * client writes these to `console.error`.
   */
  error: { readonly error: unknown; readonly command?: string };
}

/** The rejection of a `listen` or `unlisten` that the server refused; `message` is the notice text. */
export class EasyWsNoticeError extends Error {
  constructor(readonly notice: EasyWsNotice) {
    super(notice.text);
    this.name = 'EasyWsNoticeError';
  }
}

type ChannelOp = 'listen' | 'unlisten';

/** A `listen` or `unlisten` the application asked for and the server has not answered yet. */
interface ChannelRequest {
  readonly op: ChannelOp;
  readonly channel: string;
  resolve(): void;
  reject(error: Error): void;
}

/** An answer the current connection waits for; without a request, it is a listen made again after a reconnect. */
interface PendingAnswer {
  readonly op: ChannelOp;
  readonly channel: string;
  readonly request?: ChannelRequest;
}

type EventHandlers = { [K in keyof EasyWsClientEvents]: Set<(event: EasyWsClientEvents[K]) => void> };

const OPEN = 1;
const NORMAL_CLOSURE = 1000;
const DEFAULT_RECONNECT = { minDelay: 500, maxDelay: 30_000, factor: 2, maxAttempts: Infinity } as const;
const DEFAULT_MAX_QUEUED_FRAMES = 100;

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
  private readonly WebSocket: WebSocketConstructor;
  private readonly reconnect: Required<ReconnectOptions> | false;
  private readonly maxQueuedFrames: number;
  private readonly random: () => number;

  private readonly handlers = new Map<string, Set<(data: string) => void>>();
  private readonly events: EventHandlers = { open: new Set(), close: new Set(), reconnecting: new Set(), notice: new Set(), error: new Set() };
  /** The channels the server confirmed; listened to again on every new connection. */
  private readonly listening = new Set<string>();
  /** Requests not answered yet, in the order they were made; sent again on a new connection. */
  private requests: ChannelRequest[] = [];
  private pending: PendingAnswer[] = [];
  private queue: string[] = [];

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
   * @throws TypeError without a WebSocket constructor, RangeError for an option out of range.
   */
  constructor(url: string | URL, options: EasyWsClientOptions = {}) {
    this.url = String(url);
    const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocket) {
      throw new TypeError('EasyWsClient: this platform has no WebSocket; pass one as options.WebSocket (the "ws" package on Node 20)');
    }
    this.WebSocket = WebSocket;
    this.reconnect = options.reconnect === false ? false : resolveReconnect(options.reconnect);
    this.maxQueuedFrames = options.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES;
    requireRange('maxQueuedFrames', this.maxQueuedFrames, 0, true);
    this.random = options.random ?? Math.random;
    this.connect();
  }

  /** Where the client is in its life. */
  get state(): EasyWsClientState {
    return this.currentState;
  }

  /** The channels the server has confirmed this client listens to. */
  get channels(): ReadonlySet<string> {
    return this.listening;
  }

  /**
   * Sends `command: data`. While the client is not connected the frame waits in the
   * queue; the next connection sends the queue in order, right after the frames
   * that listen again, so the server handles it once the client listens again.
   * @throws TypeError for a command the protocol does not allow; Error when the
   *   client is closed or the queue is full.
   */
  send(command: string, data = ''): void {
    const problem = commandProblem(command);
    if (problem) {
      throw new TypeError(`EasyWsClient: cannot send ${JSON.stringify(command)}: ${problem}`);
    }
    this.write(`${command}: ${data}`);
  }

  /** Sends `command: <value as JSON>`, with the same queueing and errors as `send`. */
  sendJson(command: string, value: unknown): void {
    const json = JSON.stringify(value);
    if (json === undefined) {
      throw new TypeError(`EasyWsClient: the data of ${JSON.stringify(command)} cannot be written as JSON`);
    }
    this.send(command, json);
  }

  /**
   * Calls `handler` with the data of every frame whose command is `command`.
   * @returns a function that removes the handler.
   * @throws TypeError for a command the protocol does not allow (notices come as the `notice` event).
   */
  on(command: string, handler: (data: string) => void): () => void {
    const problem = commandProblem(command);
    if (problem) {
      throw new TypeError(`EasyWsClient: cannot handle ${JSON.stringify(command)}: ${problem}`);
    }
    return subscribe(this.handlers, command, handler);
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
    const handlers = this.events[event];
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  /**
   * Listens to `channel`; after a reconnect the client listens to it again by itself.
   * While disconnected, the request goes out once connected.
   * @returns a promise that resolves once the server confirmed, and rejects with an
   *   `EasyWsNoticeError` whose message is the server's notice text when it refused.
   */
  listen(channel: string): Promise<void> {
    return this.request('listen', channel);
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
   * @throws RangeError for a code WebSocket does not allow.
   */
  close(code = NORMAL_CLOSURE, reason = ''): Promise<void> {
    if (code !== NORMAL_CLOSURE && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw new RangeError(`EasyWsClient: a close code is 1000 or 3000 to 4999, got ${code}`);
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
    const socket = new this.WebSocket(this.url, [ACKNOWLEDGED_SUBPROTOCOL, LEGACY_SUBPROTOCOL]);
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
    // Copies: in the original protocol, sending settles at once and changes both.
    for (const channel of [...this.listening]) {
      this.transmit(socket, 'listen', channel);
    }
    for (const request of [...this.requests]) {
      this.transmit(socket, request.op, request.channel, request);
    }
    const queued = this.queue;
    this.queue = [];
    for (const frame of queued) {
      socket.send(frame);
    }
    this.announceOpen();
  }

  /** Emits `open` once the new connection has no re-listen left unanswered. */
  private announceOpen(): void {
    if (this.openPending && !this.pending.some((pending) => !pending.request)) {
      this.openPending = false;
      this.emit('open', { reconnected: this.hasOpened });
      this.hasOpened = true;
    }
  }

  private onClose(event: WebSocketCloseEvent): void {
    this.socket = undefined;
    this.pending = [];
    this.openPending = false;
    const willReconnect = !this.closing && this.reconnect !== false && this.attempt < this.reconnect.maxAttempts;
    if (!willReconnect) {
      this.stop(new Error('EasyWsClient: the connection closed for good before the server answered'));
    }
    this.emit('close', { code: event.code, reason: event.reason, willReconnect });
    if (willReconnect) {
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    const { minDelay, maxDelay, factor } = this.reconnect as Required<ReconnectOptions>;
    this.attempt++;
    // "Full jitter" above the floor: clients that lost the same server spread out.
    const ceiling = Math.min(maxDelay, minDelay * factor ** this.attempt);
    const delay = Math.round(minDelay + this.random() * (ceiling - minDelay));
    this.currentState = 'reconnecting';
    this.emit('reconnecting', { attempt: this.attempt, delay });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Ends the client's life: nothing is sent any more and every open request fails with `error`. */
  private stop(error: Error): void {
    this.currentState = 'closed';
    this.queue = [];
    this.pending = [];
    const requests = this.requests;
    this.requests = [];
    for (const request of requests) {
      request.reject(error);
    }
  }

  private request(op: ChannelOp, channel: string): Promise<void> {
    if (typeof channel !== 'string') {
      return Promise.reject(new TypeError(`EasyWsClient: ${op} needs a channel name, got ${typeof channel}`));
    }
    if (this.currentState === 'closed') {
      return Promise.reject(new Error(`EasyWsClient: cannot ${op}, the client is closed`));
    }
    return new Promise((resolve, reject) => {
      const request = { op, channel, resolve, reject };
      this.requests.push(request);
      if (this.socket?.readyState === OPEN) {
        this.transmit(this.socket, op, channel, request);
      }
    });
  }

  /** Sends a listen or unlisten on the open connection and notes the answer it waits for. */
  private transmit(socket: WebSocketLike, op: ChannelOp, channel: string, request?: ChannelRequest): void {
    socket.send(`${op}: ${channel}`);
    const pending = { op, channel, request };
    if (socket.protocol === ACKNOWLEDGED_SUBPROTOCOL) {
      this.pending.push(pending);
    } else {
      // The original protocol answers success with silence, and a failure without saying what it answers.
      this.settle(pending, { op, channel, ok: true });
    }
  }

  private write(frame: string): void {
    if (this.currentState === 'closed') {
      throw new Error('EasyWsClient: cannot send, the client is closed');
    }
    if (this.socket?.readyState === OPEN) {
      this.socket.send(frame);
    } else if (this.queue.length < this.maxQueuedFrames) {
      this.queue.push(frame);
    } else {
      throw new Error(`EasyWsClient: cannot send while disconnected, the queue is full (${this.maxQueuedFrames} frames)`);
    }
  }

  private receive(data: unknown): void {
    const frame = parseTextFrame(typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer));
    if (!frame) {
      this.report(new Error('the server sent a frame with no command'));
    } else if (frame.command === NOTICE_COMMAND) {
      this.receiveNotice(frame.data);
    } else {
      for (const handler of this.handlers.get(frame.command) ?? []) {
        try {
          handler(frame.data);
        } catch (error) {
          this.report(error, frame.command);
        }
      }
    }
  }

  private receiveNotice(text: string): void {
    const answer = this.socket?.protocol === ACKNOWLEDGED_SUBPROTOCOL ? parseAcknowledgement(text) : undefined;
    if (!answer) {
      this.emit('notice', { text });
      return;
    }
    if (answer.op === 'listen' || answer.op === 'unlisten') {
      const index = this.pending.findIndex((pending) => pending.op === answer.op && pending.channel === answer.channel);
      if (index !== -1) {
        this.settle(this.pending.splice(index, 1)[0], answer);
        this.announceOpen();
        return;
      }
    }
    if (!answer.ok) {
      this.emit('notice', toNotice(answer));
    }
  }

  /** Applies the server's answer to a listen or unlisten, and settles the request it answers. */
  private settle(pending: PendingAnswer, answer: Acknowledgement): void {
    const { request, op, channel } = pending;
    if (answer.ok && op === 'listen') {
      this.listening.add(channel);
    } else if (answer.ok || !request) {
      // An unlisten done, or a channel that could not be listened to again after a reconnect.
      this.listening.delete(channel);
    }
    if (!request) {
      if (!answer.ok) {
        this.emit('notice', toNotice(answer));
      }
      return;
    }
    this.requests.splice(this.requests.indexOf(request), 1);
    if (answer.ok) {
      request.resolve();
    } else {
      request.reject(new EasyWsNoticeError(toNotice(answer)));
    }
  }

  private emit<K extends keyof EasyWsClientEvents>(event: K, value: EasyWsClientEvents[K]): void {
    for (const handler of this.events[event]) {
      try {
        handler(value);
      } catch (error) {
        this.report(error);
      }
    }
  }

  /** Hands an error to the `error` event, or to the console when nobody listens. */
  private report(error: unknown, command?: string): void {
    if (this.events.error.size === 0) {
      console.error(`EasyWsClient: ${command === undefined ? 'error' : `the frame "${command}" could not be handled`}`, error);
      return;
    }
    for (const handler of this.events.error) {
      try {
        handler(command === undefined ? { error } : { error, command });
      } catch (failure) {
        console.error('EasyWsClient: an error handler threw', failure);
      }
    }
  }
}

function subscribe<T>(registry: Map<string, Set<T>>, key: string, handler: T): () => void {
  let handlers = registry.get(key);
  if (!handlers) {
    handlers = new Set();
    registry.set(key, handlers);
  }
  handlers.add(handler);
  return () => {
    handlers.delete(handler);
    if (handlers.size === 0 && registry.get(key) === handlers) {
      registry.delete(key);
    }
  };
}

/** The acknowledged-mode notice in `text`, or `undefined` for a notice in the original form. */
function parseAcknowledgement(text: string): Acknowledgement | undefined {
  try {
    const value: unknown = JSON.parse(text);
    const answer = value as Partial<Acknowledgement> | null;
    return typeof answer?.op === 'string' && typeof answer.ok === 'boolean' ? (value as Acknowledgement) : undefined;
  } catch {
    return undefined;
  }
}

function toNotice(answer: Extract<Acknowledgement, { ok: false }>): EasyWsNotice {
  const { channel, command } = answer as { channel?: string; command?: string };
  return { text: answer.error, op: answer.op, ...(channel !== undefined && { channel }), ...(command !== undefined && { command }) };
}

function resolveReconnect(options: ReconnectOptions = {}): Required<ReconnectOptions> {
  const resolved = { ...DEFAULT_RECONNECT, ...options };
  requireRange('reconnect.minDelay', resolved.minDelay, 0, false);
  requireRange('reconnect.maxDelay', resolved.maxDelay, resolved.minDelay, false);
  requireRange('reconnect.factor', resolved.factor, 1, false);
  if (resolved.maxAttempts !== Infinity) {
    requireRange('reconnect.maxAttempts', resolved.maxAttempts, 0, true);
  }
  return resolved;
}

function requireRange(name: string, value: number, min: number, integer: boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new RangeError(`EasyWsClient: ${name} must be ${integer ? 'an integer' : 'a number'} of at least ${min}, got ${String(value)}`);
  }
}
