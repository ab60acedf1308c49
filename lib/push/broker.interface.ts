import type { Message } from '../protocol/message.js';

/**
 * One thing `PushService` asks of every instance. The frames in it are already
 * encoded, so a broker carries bytes and never encodes per listener.
 */
export type PushOperation =
  | { readonly kind: 'channel'; readonly channel: string; readonly message: Message }
  | { readonly kind: 'session'; readonly sessionId: string; readonly message: Message }
  | { readonly kind: 'broadcast'; readonly message: Message }
  | { readonly kind: 'subscribe'; readonly sessionId: string; readonly channel: string }
  | { readonly kind: 'unsubscribe'; readonly sessionId: string; readonly channel: string }
  | { readonly kind: 'disconnect'; readonly sessionId: string; readonly code?: number; readonly reason?: string };

/** Carries a push operation out on this instance: the broker's way back in. */
export type PushSink = (operation: PushOperation) => void;

/**
 * Carries pushes to every instance of the application.
 *
 * The library calls `start` once with the local sink, tells the broker which
 * channels and sessions this instance holds (so that it need only listen for
 * those), and calls `close` on shutdown.
 */
export interface Broker {
  /** Begins delivering operations, from any instance, to `sink`. */
  start(sink: PushSink): Promise<void>;
  /** Delivers `operation` to every instance that holds its target, this one included. */
  publish(operation: PushOperation): Promise<void>;
  /** The first local listener of `channel` arrived. */
  channelOpened(channel: string): void;
  /** The last local listener of `channel` left. */
  channelClosed(channel: string): void;
  /** A session opened on this instance. */
  sessionOpened(sessionId: string): void;
  /** A session on this instance closed. */
  sessionClosed(sessionId: string): void;
  /**
   * Settles once operations published on other instances reach the local listeners of
   * `channel`. A `listen` is acknowledged only then, so that a push from any instance
   * after the acknowledgement is not missed. Must never reject. A broker without it
   * is taken to be ready at once.
   */
  channelReady?(channel: string): Promise<void>;
  /**
   * Settles once operations published on other instances reach the session. Its open
   * hooks run only then, so that the session can be reached from every instance by
   * the time the application learns its id. Must never reject.
   */
  sessionReady?(sessionId: string): Promise<void>;
  /** Stops delivering and releases connections. */
  close(): Promise<void>;
}
