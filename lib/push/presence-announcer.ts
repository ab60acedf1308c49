import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Session } from '../endpoint/session.js';
import type { PresenceMember } from '../protocol/rules.js';
import { describeError } from '../utils/describe-error.js';
import type { Broker } from './broker.interface.js';
import { LocalSessions } from './local-sessions.js';
import { EASY_WS_BROKER } from './push.constants.js';
import { PushStats } from './push-stats.js';
import { SessionEvents } from './session-events.js';

/**
 * How long joins and leaves of one channel are gathered into one announcement, in
 * milliseconds: a storm of a thousand joins in a second reaches each listener as about
 * ten events, not a thousand.
 */
export const PRESENCE_WINDOW = 100;

/** What one channel's next announcement says. */
interface Announcement {
  readonly joins: Map<string, PresenceMember>;
  readonly leaves: Map<string, PresenceMember>;
}

/**
 * Keeps the members of presence channels: a session that joins such a channel (by a
 * listen, or the server's subscribe) becomes a member with the `info` the channel
 * computes for it, and stops being one when it leaves, however it leaves. Joins and
 * leaves of one channel within `PRESENCE_WINDOW` go out as one announcement to every
 * instance; a join and a leave of the same session within it cancel out.
 */
@Injectable()
export class PresenceAnnouncer {
  private readonly logger = new Logger('EasyWs');
  /** The members this instance holds, by channel, with the info they joined with. */
  private readonly local = new Map<string, Map<string, PresenceMember>>();
  private readonly next = new Map<string, Announcement>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    @Inject(EASY_WS_BROKER) private readonly broker: Broker,
    private readonly sessions: LocalSessions,
    private readonly stats: PushStats,
    events: SessionEvents,
  ) {
    events.on('joined', (session, channel) => this.joined(session, channel));
    events.on('left', (session, channel) => this.left(session, channel));
  }

  /** This instance's member of `channel` for `sessionId`, if the session is a member here. */
  memberOf(channel: string, sessionId: string): PresenceMember | undefined {
    return this.local.get(channel)?.get(sessionId);
  }

  /** Sends every gathered announcement now (at shutdown, before the broker closes). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const announcements = [...this.next];
    this.next.clear();
    for (const [channel, { joins, leaves }] of announcements) {
      if (joins.size === 0 && leaves.size === 0) {
        continue;
      }
      this.broker.publish({ kind: 'presence', channel, joins: [...joins.values()], leaves: [...leaves.values()] }).catch(() => {
        // It reached this instance; the broker has logged an outage that kept it from the others.
      });
    }
  }

  private joined(session: Session, channel: string): void {
    const presence = this.sessions.settingsOf(channel)?.presence;
    if (!presence) {
      return;
    }
    const member = this.member(session, channel, presence.info);
    let members = this.local.get(channel);
    if (!members) {
      members = new Map();
      this.local.set(channel, members);
    }
    members.set(session.id, member);
    this.stats.presenceJoins++;
    this.store((store) => store.add(channel, member), channel);
    this.announcement(channel).joins.set(session.id, member);
  }

  private left(session: Session, channel: string): void {
    const members = this.local.get(channel);
    const member = members?.get(session.id);
    if (!member) {
      return;
    }
    members?.delete(session.id);
    this.stats.presenceLeaves++;
    if (members?.size === 0) {
      this.local.delete(channel);
    }
    this.store((store) => store.remove(channel, session.id), channel);
    const announcement = this.announcement(channel);
    if (!announcement.joins.delete(session.id)) {
      announcement.leaves.set(session.id, member);
    }
  }

  /** The member a session is in `channel`, with the info the channel computes; a failing `info` is logged and left out. */
  private member(session: Session, channel: string, info: ((session: Session) => unknown) | undefined): PresenceMember {
    if (!info) {
      return { sessionId: session.id };
    }
    try {
      return { sessionId: session.id, info: info(session) };
    } catch (error) {
      this.logger.error(`The presence info of ${channel} failed for a session; it joins without info`, describeError(error));
      return { sessionId: session.id };
    }
  }

  private store(change: (store: NonNullable<Broker['presence']>) => Promise<void>, channel: string): void {
    const store = this.broker.presence;
    if (store) {
      change(store).catch((error: unknown) => {
        this.logger.warn(`The members of ${channel} could not be updated: ${(error as Error)?.message ?? String(error)}`);
      });
    }
  }

  private announcement(channel: string): Announcement {
    let announcement = this.next.get(channel);
    if (!announcement) {
      announcement = { joins: new Map(), leaves: new Map() };
      this.next.set(channel, announcement);
    }
    this.timer ??= setTimeout(() => this.flush(), PRESENCE_WINDOW).unref();
    return announcement;
  }
}
