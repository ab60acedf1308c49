import { withCode } from '../protocol/errors.js';
import { ACKNOWLEDGED_SUBPROTOCOL, type Acknowledgement, NOTICE_COMMAND, type ServerEvent, type StreamPosition } from '../protocol/rules.js';
import { type ClientEvents, type EasyWsNotice, EasyWsNoticeError } from './client-events.js';
import type { WebSocketLike } from './websocket-like.js';

type ChannelOp = 'listen' | 'unlisten';

/** A `listen` or `unlisten` the application asked for and the server has not answered yet. */
interface ChannelRequest {
  readonly op: ChannelOp;
  readonly channel: string;
  resolve(): void;
  reject(error: Error): void;
}

/** An answer the current connection waits for; without a request, it is a listen made again after a reconnect. */
export interface PendingAnswer {
  readonly op: ChannelOp;
  readonly channel: string;
  readonly request?: ChannelRequest;
}

/**
 * The client's channels: those the server confirmed (listened to again on every new
 * connection), the `listen` and `unlisten` requests not answered yet (sent again on a
 * new connection), and the answers the current connection waits for. In acknowledged
 * mode a request settles with the server's answer, and a listen is a request of that
 * mode (`websocket: {"op":"listen",…}`) that asks for positions and presence events,
 * from where the client stands in the channel's history when it knows; in the
 * original protocol, which answers success with silence, it settles once sent.
 */
export class ChannelRequests {
  /** The channels the server confirmed. */
  readonly listening = new Set<string>();
  /** Requests not answered yet, in the order they were made. */
  private requests: ChannelRequest[] = [];
  private pending: PendingAnswer[] = [];

  constructor(
    private readonly events: ClientEvents,
    /** Where the client stands in a channel's history, to listen from there. */
    private readonly sinceOf: (channel: string) => StreamPosition | undefined,
  ) {}

  /** Whether an answer to a listen made again on this connection is still to come. */
  get relistening(): boolean {
    return this.pending.some((pending) => !pending.request);
  }

  /** Asks to listen or stop listening; sent at once on `socket` when it is open, else on the next connection. */
  request(op: ChannelOp, channel: string, socket: WebSocketLike | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = { op, channel, resolve, reject };
      this.requests.push(request);
      if (socket) {
        this.transmit(socket, op, channel, request);
      }
    });
  }

  /** On a new connection: listens again to every confirmed channel, then sends the open requests. */
  resend(socket: WebSocketLike): void {
    // Copies: in the original protocol, sending settles at once and changes both.
    for (const channel of [...this.listening]) {
      this.transmit(socket, 'listen', channel);
    }
    for (const request of [...this.requests]) {
      this.transmit(socket, request.op, request.channel, request);
    }
  }

  /**
   * Applies an acknowledged-mode answer to the listen or unlisten it answers.
   * @returns what it answered, or `undefined` when it answers none of them.
   */
  answer(answer: Acknowledgement): PendingAnswer | undefined {
    if (answer.op !== 'listen' && answer.op !== 'unlisten') {
      return undefined;
    }
    const index = this.pending.findIndex((pending) => pending.op === answer.op && pending.channel === answer.channel);
    if (index === -1) {
      return undefined;
    }
    const [pending] = this.pending.splice(index, 1);
    this.settle(pending, answer);
    return pending;
  }

  /** The connection closed: nothing sent on it will be answered. */
  connectionLost(): void {
    this.pending = [];
  }

  /** The client's life is over: every open request fails with `error`. */
  fail(error: Error): void {
    this.pending = [];
    const requests = this.requests;
    this.requests = [];
    for (const request of requests) {
      request.reject(withCode(error, 'EASY_WS_CLIENT_CLOSED'));
    }
  }

  /** Sends a listen or unlisten on the open connection and notes the answer it waits for. */
  private transmit(socket: WebSocketLike, op: ChannelOp, channel: string, request?: ChannelRequest): void {
    const acknowledged = socket.protocol === ACKNOWLEDGED_SUBPROTOCOL;
    const since = this.sinceOf(channel);
    socket.send(acknowledged && op === 'listen' ? `${NOTICE_COMMAND}: ${JSON.stringify({ op, channel, ...(since && { since }) })}` : `${op}: ${channel}`);
    const pending = { op, channel, request };
    if (acknowledged) {
      this.pending.push(pending);
    } else {
      // The original protocol answers success with silence, and a failure without saying what it answers.
      this.settle(pending, { op, channel, ok: true });
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
        this.events.emit('notice', noticeOf(answer));
      }
      return;
    }
    this.requests.splice(this.requests.indexOf(request), 1);
    if (answer.ok) {
      request.resolve();
    } else {
      request.reject(new EasyWsNoticeError(noticeOf(answer)));
    }
  }
}

/** The notice an acknowledged-mode failure stands for. */
export function noticeOf(answer: Extract<Acknowledgement, { ok: false }>): EasyWsNotice {
  const { channel, command } = answer as { channel?: string; command?: string };
  return { text: answer.error, op: answer.op, ...(channel !== undefined && { channel }), ...(command !== undefined && { command }) };
}

/** An acknowledged-mode notice: an answer to something the client asked, or an event the server tells of its own accord. */
export type ParsedNotice = { readonly answer: Acknowledgement } | { readonly event: ServerEvent };

/** The acknowledged-mode notice in `text`, or `undefined` for a notice in the original form. */
export function parseNotice(text: string): ParsedNotice | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const notice = value as { op?: unknown; ok?: unknown; event?: unknown } | null;
  if (typeof notice?.op === 'string' && typeof notice.ok === 'boolean') {
    return { answer: value as Acknowledgement };
  }
  return typeof notice?.event === 'string' ? { event: value as ServerEvent } : undefined;
}
