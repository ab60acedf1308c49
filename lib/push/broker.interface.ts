import type { Message } from '../protocol/message.js';
import type { PresenceMember, StreamPosition } from '../protocol/rules.js';

/** How much of a channel's pushes its history keeps: the last `size` frames, each for `ttl` milliseconds. */
export interface HistorySettings {
  /** How many frames are kept, the latest. */
  readonly size: number;
  /** How long each frame is kept, in milliseconds. */
  readonly ttl: number;
}

/**
 * One thing `PushService` asks of every instance. The frames in it are already
 * encoded, so a broker carries bytes and never encodes per listener.
 */
export type PushOperation =
  | {
      readonly kind: 'channel';
      readonly channel: string;
      readonly message: Message;
      /** Set when the channel keeps history: the broker appends the frame to it and gives it its position. */
      readonly history?: HistorySettings;
      /** The frame's place in the channel's history, set by the broker when it delivers a frame it kept. */
      readonly position?: StreamPosition;
    }
  | { readonly kind: 'session'; readonly sessionId: string; readonly message: Message }
  | { readonly kind: 'user'; readonly userId: string; readonly message: Message }
  | { readonly kind: 'broadcast'; readonly message: Message }
  | { readonly kind: 'subscribe'; readonly sessionId: string; readonly channel: string }
  | { readonly kind: 'unsubscribe'; readonly sessionId: string; readonly channel: string }
  | { readonly kind: 'disconnect'; readonly sessionId: string; readonly code?: number; readonly reason?: string }
  | { readonly kind: 'disconnectUser'; readonly userId: string; readonly code?: number; readonly reason?: string }
  | { readonly kind: 'recheck'; readonly sessionId: string }
  | { readonly kind: 'recheckUser'; readonly userId: string }
  | {
      readonly kind: 'presence';
      readonly channel: string;
      /** Sessions that joined the channel since the last announcement. */
      readonly joins: readonly PresenceMember[];
      /** Sessions that left it. */
      readonly leaves: readonly PresenceMember[];
    };

/** Carries a push operation out on this instance: the broker's way back in. */
export type PushSink = (operation: PushOperation) => void;

/** One frame of a channel's history and its offset. */
export interface HistoryEntry {
  /** The frame's offset under the page's epoch. */
  readonly offset: number;
  /** The frame, as it was pushed. */
  readonly message: Message;
}

/** What a channel's history holds after a position. */
export interface HistoryPage {
  /** Where the channel's history stands now: its epoch and the offset of its latest frame (0 for none). */
  readonly position: StreamPosition;
  /** The frames kept after the asked offset, oldest first; at most `limit`, the latest. */
  readonly messages: readonly HistoryEntry[];
}

/** Where a broker keeps the history of channels that ask for it. */
export interface HistoryStore {
  /**
   * The frames of `channel` after offset `since` (default: all it keeps), at most
   * `limit` of them (the latest), and the channel's position now. A channel never
   * pushed to has a position with offset 0 under a fresh epoch.
   */
  read(channel: string, settings: HistorySettings, query: { readonly since?: number; readonly limit?: number }): Promise<HistoryPage>;
}

/** Where a broker keeps who is in each presence channel, across every instance. */
export interface PresenceStore {
  /** Adds (or replaces) a member of `channel`. */
  add(channel: string, member: PresenceMember): Promise<void>;
  /** Removes the member with this session id from `channel`; nothing happens when it is not there. */
  remove(channel: string, sessionId: string): Promise<void>;
  /** Every member of `channel`, on every instance. */
  members(channel: string): Promise<PresenceMember[]>;
  /** How many members `channel` has, on every instance; cheaper than `members`. */
  count(channel: string): Promise<number>;
}

/**
 * Carries pushes to every instance of the application.
 *
 * The library calls `start` once with the local sink, tells the broker which
 * channels, sessions and users this instance holds (so that it need only listen for
 * those), and calls `close` on shutdown. History and presence are capabilities a
 * broker may have: a channel that asks for one needs a broker that has it.
 */
export interface Broker {
  /** Begins delivering operations, from any instance, to `sink`. */
  start(sink: PushSink): Promise<void>;
  /**
   * Delivers `operation` to every instance that holds its target, this one included.
   * A `channel` operation with `history` is appended to the channel's history and
   * delivered with its `position`, in one order on every instance.
   */
  publish(operation: PushOperation): Promise<void>;
  /** The first local listener of `channel` arrived. */
  channelOpened(channel: string): void;
  /** The last local listener of `channel` left. */
  channelClosed(channel: string): void;
  /** A session opened on this instance. */
  sessionOpened(sessionId: string): void;
  /** A session on this instance closed. */
  sessionClosed(sessionId: string): void;
  /** The first local session of a user opened; a broker without it cannot reach users across instances. */
  userOpened?(userId: string): void;
  /** The last local session of a user closed. */
  userClosed?(userId: string): void;
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
  /** The history of channels that keep one; without it, no channel may declare `history`. */
  readonly history?: HistoryStore;
  /** The members of presence channels; without it, no channel may declare `presence`. */
  readonly presence?: PresenceStore;
  /**
   * Whether pushes reach the other instances now: false while the broker's server is
   * unreachable. Read by the metrics and the health indicator; a broker without it is
   * taken to be connected.
   */
  readonly connected?: boolean;
  /** Stops delivering and releases connections. */
  close(): Promise<void>;
}
