import type { PresenceMember } from '../protocol/rules.js';

/** What changed in a channel's members. */
export interface PresenceChange {
  readonly joins: readonly PresenceMember[];
  readonly leaves: readonly PresenceMember[];
}

/**
 * The client's view of who is in each presence channel it listens to: the members the
 * answer to a listen named, kept up to date by join and leave events. After a
 * reconnect the answer replaces the view, and the difference is what the client
 * missed: leaves of those gone, joins of those new.
 */
export class PresenceView {
  private readonly channels = new Map<string, Map<string, PresenceMember>>();

  /** The members of `channel`, or `undefined` when the client does not know them (no presence, or not listening). */
  members(channel: string): PresenceMember[] | undefined {
    const members = this.channels.get(channel);
    return members && [...members.values()];
  }

  /** Replaces the view of `channel` with `members`; returns what changed. */
  reset(channel: string, members: readonly PresenceMember[]): PresenceChange {
    const before = this.channels.get(channel) ?? new Map<string, PresenceMember>();
    const after = new Map(members.map((member) => [member.sessionId, member]));
    this.channels.set(channel, after);
    return {
      joins: members.filter((member) => !before.has(member.sessionId)),
      leaves: [...before.values()].filter((member) => !after.has(member.sessionId)),
    };
  }

  /** Applies an event (its leaves first: a session that left and joined again within one event is a member); returns what changed. */
  apply(channel: string, joins: readonly PresenceMember[], leaves: readonly PresenceMember[]): PresenceChange {
    const members = this.channels.get(channel);
    if (!members) {
      return { joins: [], leaves: [] };
    }
    const left = leaves.filter((member) => members.delete(member.sessionId));
    const joined = joins.filter((member) => !members.has(member.sessionId));
    for (const member of joins) {
      members.set(member.sessionId, member);
    }
    return { joins: joined, leaves: left };
  }

  /** Forgets `channel`. */
  forget(channel: string): void {
    this.channels.delete(channel);
  }
}
