import type { PresenceMember } from '../protocol/rules.js';
import type { PresenceStore } from './broker.interface.js';

/** The members of the in-process broker's presence channels, in memory. */
export class MemoryPresence implements PresenceStore {
  private readonly channels = new Map<string, Map<string, PresenceMember>>();

  async add(channel: string, member: PresenceMember): Promise<void> {
    let members = this.channels.get(channel);
    if (!members) {
      members = new Map();
      this.channels.set(channel, members);
    }
    members.set(member.sessionId, member);
  }

  async remove(channel: string, sessionId: string): Promise<void> {
    const members = this.channels.get(channel);
    if (members?.delete(sessionId) && members.size === 0) {
      this.channels.delete(channel);
    }
  }

  async members(channel: string): Promise<PresenceMember[]> {
    return [...(this.channels.get(channel)?.values() ?? [])];
  }

  async count(channel: string): Promise<number> {
    return this.channels.get(channel)?.size ?? 0;
  }
}
