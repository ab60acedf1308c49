import type { EasyWsSession } from '../endpoint/easy-ws-session.js';

/** A channel and how many sessions of this instance listen to it. */
export interface ChannelListeners {
  /** The channel's name. */
  readonly channel: string;
  /** How many sessions of this instance listen to it. */
  readonly listeners: number;
}

/**
 * The sessions of this instance and the channels they listen to, read-only, for
 * monitoring and for the application's own decisions: inject it anywhere. Nothing of
 * a session stays in it after the session has closed. To change who listens where,
 * use `PushService`, which does it on whichever instance holds the session.
 *
 * What it answers is this instance's: with a broker between instances, each knows its
 * own sessions (the presence of a channel, `PushService.presence`, spans them all).
 */
export abstract class SessionRegistry {
  /** How many sessions are open on this instance. */
  abstract readonly sessionCount: number;

  /** How many channels have at least one listener on this instance. */
  abstract readonly channelCount: number;

  /** How many listeners all channels have together on this instance: a session listening to three channels counts three times. */
  abstract readonly listenerCount: number;

  /** The session with this id, if it is on this instance; its `channels` are the channels it listens to. */
  abstract get(sessionId: string): EasyWsSession | undefined;

  /** The sessions of this instance that listen to `channel`. */
  abstract listeners(channel: string): ReadonlySet<EasyWsSession>;

  /**
   * The channels with the most listeners on this instance, the busiest first, at most
   * `limit` of them (default 10). It reads every channel once, so it suits an
   * operator's question or a scrape, not a hot path.
   * @throws TypeError (`EASY_WS_INVALID_ARGUMENT`) for a limit that is not a whole number of at least 1.
   */
  abstract busiestChannels(limit?: number): ChannelListeners[];
}
