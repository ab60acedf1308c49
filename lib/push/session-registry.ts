import type { EasyWsSession } from '../endpoint/easy-ws-session.js';

/**
 * The sessions of this instance and the channels they listen to, read-only, for
 * monitoring and for the application's own decisions: inject it anywhere. Nothing of
 * a session stays in it after the session has closed. To change who listens where,
 * use `PushService`, which does it on whichever instance holds the session.
 */
export abstract class SessionRegistry {
  /** How many sessions are open on this instance. */
  abstract readonly sessionCount: number;

  /** How many channels have at least one listener on this instance. */
  abstract readonly channelCount: number;

  /** The session with this id, if it is on this instance. */
  abstract get(sessionId: string): EasyWsSession | undefined;

  /** The sessions of this instance that listen to `channel`. */
  abstract listeners(channel: string): ReadonlySet<EasyWsSession>;
}
