import { Injectable, Logger } from '@nestjs/common';
import type { Session } from '../endpoint/session.js';
import { describeError } from '../utils/describe-error.js';

/** Why a session left a channel. */
export type LeaveReason =
  /** The client sent `unlisten`. */
  | 'unlisten'
  /** The server called `PushService.unsubscribe`. */
  | 'unsubscribe'
  /** The connection closed. */
  | 'disconnect'
  /** The channel's guard denied the session when it was checked again. */
  | 'denied';

/** What each event of the registry hands its listeners. */
interface SessionEventArguments {
  /** A session now listens to a channel. */
  joined: [session: Session, channel: string];
  /** A session no longer listens to a channel. */
  left: [session: Session, channel: string, reason: LeaveReason];
  /** The application asked for a session's channels to be checked again. */
  recheck: [session: Session];
}

type Listener<K extends keyof SessionEventArguments> = (...args: SessionEventArguments[K]) => void;

/**
 * What happens to the sessions of this instance, for the parts of the library that
 * follow it (presence, the channels' leave hooks, the auth lifecycle). The registry
 * emits; the others subscribe when Nest builds them. A listener that throws is
 * logged and does not keep the others from running.
 */
@Injectable()
export class SessionEvents {
  private readonly logger = new Logger('EasyWs');
  private readonly listeners: { [K in keyof SessionEventArguments]: Array<Listener<K>> } = { joined: [], left: [], recheck: [] };

  /** Calls `listener` on every `event`. */
  on<K extends keyof SessionEventArguments>(event: K, listener: Listener<K>): void {
    (this.listeners[event] as Array<Listener<K>>).push(listener);
  }

  emit<K extends keyof SessionEventArguments>(event: K, ...args: SessionEventArguments[K]): void {
    for (const listener of this.listeners[event] as Array<Listener<K>>) {
      try {
        listener(...args);
      } catch (error) {
        this.logger.error(`A listener of "${event}" failed`, describeError(error));
      }
    }
  }
}
