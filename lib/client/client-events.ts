import type { Acknowledgement, PresenceMember } from '../protocol/rules.js';

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
   * A channel with history was listened to again from where the client stood (after a
   * reconnect, or with `listen(channel, { since })`), or a gap in it was filled.
   * `recovered` is true when every missed frame was delivered, in order (`missed` of
   * them); false when the server's history no longer covers the gap (trimmed, expired,
   * or begun anew), and the application should reload its state of the channel.
   */
  recovery: { readonly channel: string; readonly recovered: boolean; readonly missed?: number };
  /** A session joined a presence channel the client listens to. */
  join: { readonly channel: string } & PresenceMember;
  /** A session left a presence channel the client listens to. */
  leave: { readonly channel: string } & PresenceMember;
  /** The server stopped the client listening to `channel` (its guard denied it when checked again): it is not listened to again. */
  left: { readonly channel: string; readonly reason: string };
  /** The server took a refreshed token; `expiresAt` is when it expires, in milliseconds since the epoch. */
  refreshed: { readonly expiresAt?: number };
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
  /** The stable code of this error. */
  readonly code = 'EASY_WS_NOTICE' as const;

  constructor(
    /** The notice the server answered with. */
    readonly notice: EasyWsNotice,
  ) {
    super(notice.text);
    this.name = 'EasyWsNoticeError';
  }
}

type EventHandlers = { [K in keyof EasyWsClientEvents]: Set<(event: EasyWsClientEvents[K]) => void> };

/**
 * The client's event handlers: each handler runs in turn, and one that throws is
 * reported on the `error` event (or, with no handler there, to the console) without
 * stopping the others.
 */
export class ClientEvents {
  private readonly handlers: EventHandlers = {
    open: new Set(),
    close: new Set(),
    reconnecting: new Set(),
    notice: new Set(),
    recovery: new Set(),
    join: new Set(),
    leave: new Set(),
    left: new Set(),
    refreshed: new Set(),
    error: new Set(),
  };

  /** Adds a handler; returns the function that removes it. */
  on<K extends keyof EasyWsClientEvents>(event: K, handler: (event: EasyWsClientEvents[K]) => void): () => void {
    const handlers = this.handlers[event];
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  emit<K extends keyof EasyWsClientEvents>(event: K, value: EasyWsClientEvents[K]): void {
    for (const handler of this.handlers[event]) {
      try {
        handler(value);
      } catch (error) {
        this.report(error);
      }
    }
  }

  /** Hands an error to the `error` event, or to the console when nobody listens. */
  report(error: unknown, command?: string): void {
    if (this.handlers.error.size === 0) {
      console.error(`EasyWsClient: ${command === undefined ? 'error' : `the frame "${command}" could not be handled`}`, error);
      return;
    }
    for (const handler of this.handlers.error) {
      try {
        handler(command === undefined ? { error } : { error, command });
      } catch (failure) {
        console.error('EasyWsClient: an error handler threw', failure);
      }
    }
  }
}
