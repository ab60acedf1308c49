import type { IncomingHttpHeaders } from 'node:http';
import { Message, type MessageData } from '../protocol/message.js';
import type { SlowConsumerPolicy } from './interfaces/endpoint-options.interface.js';

/**
 * One client connection, as the application sees it: what `@ConnectedSocket()` and
 * `switchToWs().getClient()` give, and what guards, pipes and handlers receive.
 *
 * The library makes sessions; an application never constructs one. `instanceof
 * EasyWsSession` tells a session from other clients (a socket.io socket, say).
 */
export abstract class EasyWsSession {
  /** The session id: a random UUID v4, lower case. */
  abstract readonly id: string;
  /** The auth token the client sent (see the `token` option), if any; a refresh over the socket replaces it. */
  abstract readonly token: string | undefined;
  /**
   * The user the session belongs to: the string `sub` of what `authenticate` returned
   * (the JWT convention), if any. `PushService.toUser` reaches every session of a user.
   */
  abstract readonly userId: string | undefined;
  /**
   * When the session's token expires, in milliseconds since the epoch: the numeric `exp`
   * (in seconds, as in a JWT) of what `authenticate` returned. The session is closed
   * with 4001 then, unless the client refreshed its token before.
   */
  abstract readonly expiresAt: number | undefined;
  /** The headers of the upgrade request. */
  abstract readonly headers: IncomingHttpHeaders;
  /** The client's address, as the socket saw it. */
  abstract readonly remoteAddress: string | undefined;
  /** Application data for this session; starts with what `authenticate` returned, and a refresh replaces it. */
  abstract readonly data: Record<string, unknown>;
  /** The subprotocol agreed in the handshake, or `''` for none. */
  abstract readonly protocol: string;
  /** Whether the client chose acknowledged mode (subprotocol `easy-ws.v1`). */
  abstract readonly acknowledged: boolean;
  /** The channels this session listens to. */
  abstract readonly channels: ReadonlySet<string>;
  /** Whether the connection is open, so that frames can still reach the client. */
  abstract readonly isOpen: boolean;
  /** How many frames the `'drop'` slow-consumer policy dropped for this client. */
  abstract readonly droppedFrames: number;

  /**
   * Sends one frame to this client; does nothing once the connection is closing.
   * Frames sent in the same tick leave together, once the tick's work is done.
   * @param slowConsumer what to do if the client is too slow to take it; default: the module's `slowConsumer` option.
   */
  abstract send(message: Message, slowConsumer?: SlowConsumerPolicy): void;

  /**
   * Closes the connection; the close hooks run once it has closed. Without a code the
   * close frame carries none (the client sees 1005). A reason longer than a close
   * frame holds (123 bytes) is cut to fit, at a character boundary.
   * @throws TypeError for a code that a close frame cannot carry.
   */
  abstract close(code?: number, reason?: string): void;

  /** Calls `callback` once the connection has closed (at once if it has already). */
  abstract onceClosed(callback: () => void): void;

  /**
   * Sends `event: data`, so that filters written for Nest gateways (such as
   * `BaseWsExceptionFilter`, which calls `client.emit('exception', …)`) work unchanged.
   */
  emit(event: string, data?: MessageData): void {
    this.send(new Message(event, data));
  }
}
