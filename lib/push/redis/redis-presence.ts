import type { LoggerService } from '@nestjs/common';
import type { PresenceMember } from '../../protocol/rules.js';
import type { PresenceStore } from '../broker.interface.js';
import type { BoundedCalls } from './bounded-calls.js';
import type { Connection } from './redis-connections.js';
import type { RedisKeys } from './redis-keys.js';
import { RedisScript } from './redis-script.js';

/** How many dead instances one heartbeat claims at most, so that a heartbeat stays short. */
const CLAIMS_PER_BEAT = 10;

/**
 * How long the set of an instance's presence channels outlives its last heartbeat, in
 * heartbeats' timeouts: long enough for the others to find it once they see it is dead.
 */
const CHANNEL_SET_LIFETIMES = 100;

/**
 * Records a heartbeat in the sorted set of instances, scored by Redis's clock, so that
 * instances whose clocks differ still agree on who is late.
 * KEYS: instances. ARGV: instance id. Returns 1 when the instance was not in the set.
 */
const BEAT = new RedisScript(`
local time = redis.call('TIME')
return redis.call('ZADD', KEYS[1], tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), ARGV[1])
`);

/**
 * Claims the instances whose last heartbeat is older than the timeout, by scoring them
 * now: another instance that sweeps meanwhile leaves them to this one, and claims them
 * again only if this one dies before it has removed their members.
 * KEYS: instances. ARGV: timeout, how many at most. Returns the claimed ids.
 */
const CLAIM = new RedisScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now - tonumber(ARGV[1])), 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(dead) do
  redis.call('ZADD', KEYS[1], now, id)
end
return dead
`);

/**
 * Removes every member that one instance holds in one channel.
 * KEYS: the channel's members. ARGV: the instance's id. Returns the values removed.
 */
const PURGE = new RedisScript(`
local prefix = ARGV[1] .. ' '
local removed = {}
local members = redis.call('HGETALL', KEYS[1])
for i = 1, #members, 2 do
  if string.sub(members[i + 1], 1, #prefix) == prefix then
    redis.call('HDEL', KEYS[1], members[i])
    removed[#removed + 1] = members[i + 1]
  end
end
return removed
`);

/** Tells every instance's listeners of `channel` who joined and who left. */
export type PresenceAnnounce = (channel: string, joins: PresenceMember[], leaves: PresenceMember[]) => void;

/** How `RedisPresence` works, from the broker's options. */
export interface RedisPresenceSettings {
  /** This instance's id, unique among the instances of the application. */
  readonly instanceId: string;
  /** How long an instance may go without a heartbeat before its members are removed, in milliseconds. */
  readonly timeout: number;
}

/**
 * The members of presence channels for a `RedisBroker`: one hash per channel, a field
 * per session, whose value names the instance that holds the session.
 *
 * Instances that hold members beat every third of `timeout` into a sorted set, scored
 * by Redis's clock, and each beat looks for instances that stopped: their members are
 * removed and their leaves announced by whichever living instance claims them first,
 * within `timeout` of their last beat plus one beat. An instance that finds itself
 * missing from the set (Redis restarted empty, or it was taken for dead) adds its
 * members again and announces them as joins. The members' hash expires when no
 * instance has beaten for it for a while, so that a Redis no instance uses any more is
 * left clean.
 */
export class RedisPresence implements PresenceStore {
  /** The members this instance added, by channel. */
  private readonly local = new Map<string, Map<string, PresenceMember>>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Whether a heartbeat has registered this instance since it began beating. */
  private registered = false;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly calls: BoundedCalls,
    private readonly connection: Connection,
    private readonly keys: RedisKeys,
    private readonly settings: RedisPresenceSettings,
    private readonly announce: PresenceAnnounce,
    private readonly logger: LoggerService,
  ) {}

  async add(channel: string, member: PresenceMember): Promise<void> {
    let members = this.local.get(channel);
    const first = !members;
    if (!members) {
      members = new Map();
      this.local.set(channel, members);
    }
    members.set(member.sessionId, member);
    const value = this.valueOf(member);
    this.startBeating();
    const key = this.keys.presence(channel);
    const changes: Array<Promise<unknown>> = [
      this.calls.batched(() => this.connection.hset(key, member.sessionId, value)),
      this.calls.batched(() => this.connection.pexpire(key, this.memberTtl)),
    ];
    if (first) {
      changes.push(this.calls.batched(() => this.connection.sadd(this.ownChannels, channel)));
    }
    await Promise.all(changes);
  }

  async remove(channel: string, sessionId: string): Promise<void> {
    const members = this.local.get(channel);
    if (!members?.delete(sessionId)) {
      return;
    }
    const changes: Array<Promise<unknown>> = [this.calls.batched(() => this.connection.hdel(this.keys.presence(channel), sessionId))];
    if (members.size === 0) {
      this.local.delete(channel);
      changes.push(this.calls.batched(() => this.connection.srem(this.ownChannels, channel)));
    }
    await Promise.all(changes);
  }

  async members(channel: string): Promise<PresenceMember[]> {
    const values = await this.calls.batched(() => this.connection.hvals(this.keys.presence(channel)));
    return values.flatMap((value) => memberOf(value) ?? []);
  }

  count(channel: string): Promise<number> {
    return this.calls.batched(() => this.connection.hlen(this.keys.presence(channel)));
  }

  /**
   * Stops beating and removes this instance's members and its place among the
   * instances, so that the others need not wait for `timeout` to see them gone. Their
   * leaves are the application's to announce: sessions leave as they close.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    if (!this.registered && this.local.size === 0) {
      return;
    }
    const { instanceId } = this.settings;
    await Promise.all([
      ...[...this.local.keys()].map((channel) => this.calls.now(() => PURGE.run(this.connection, [this.keys.presence(channel)], [instanceId]))),
      this.calls.now(() => this.connection.del(this.ownChannels)),
      this.calls.now(() => this.connection.zrem(this.keys.presenceInstances, instanceId)),
    ]).catch(() => undefined); // Redis is gone: the others will remove them once this instance misses its beats
    this.local.clear();
  }

  private get ownChannels(): string {
    return this.keys.instanceChannels(this.settings.instanceId);
  }

  /** How long a channel's members stay in Redis after the last beat of an instance holding one. */
  private get memberTtl(): number {
    return this.settings.timeout * 3;
  }

  private valueOf(member: PresenceMember): string {
    return `${this.settings.instanceId} ${JSON.stringify(member)}`;
  }

  private startBeating(): void {
    if (this.timer) {
      return;
    }
    const interval = Math.max(1, Math.floor(this.settings.timeout / 3));
    this.timer = setInterval(() => {
      this.beating ??= this.beat().finally(() => (this.beating = undefined));
    }, interval).unref();
    this.beating = this.beat().finally(() => (this.beating = undefined));
  }

  /** One heartbeat: be counted alive, keep this instance's members from expiring, and remove the members of dead instances. */
  private async beat(): Promise<void> {
    const { instanceId, timeout } = this.settings;
    try {
      const added = (await this.calls.now(() => BEAT.run(this.connection, [this.keys.presenceInstances], [instanceId]))) as number;
      if (added === 1 && this.registered) {
        await this.restore();
      }
      this.registered = true;
      await Promise.all([
        this.calls.batched(() => this.connection.pexpire(this.ownChannels, timeout * CHANNEL_SET_LIFETIMES)),
        ...[...this.local.keys()].map((channel) => this.calls.batched(() => this.connection.pexpire(this.keys.presence(channel), this.memberTtl))),
      ]);
      const dead = (await this.calls.now(() => CLAIM.run(this.connection, [this.keys.presenceInstances], [timeout, CLAIMS_PER_BEAT]))) as Buffer[];
      for (const id of dead) {
        await this.removeDead(id.toString());
      }
    } catch (error) {
      // An outage is logged by the connections; the next beat tries again.
      this.logger.debug?.(`A presence heartbeat failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  /** Adds every local member again, and tells the others they are here. */
  private async restore(): Promise<void> {
    const changes: Array<Promise<unknown>> = [];
    for (const [channel, members] of this.local) {
      const key = this.keys.presence(channel);
      for (const member of members.values()) {
        changes.push(this.calls.batched(() => this.connection.hset(key, member.sessionId, this.valueOf(member))));
      }
      changes.push(this.calls.batched(() => this.connection.sadd(this.ownChannels, channel)));
      this.announce(channel, [...members.values()], []);
    }
    await Promise.all(changes);
  }

  /** Removes the members a dead instance left behind, announcing their leaves, and then the instance itself. */
  private async removeDead(instanceId: string): Promise<void> {
    if (instanceId === this.settings.instanceId) {
      return; // late, not dead: the next beat puts it back
    }
    const channelsKey = this.keys.instanceChannels(instanceId);
    const channels = await this.calls.now(() => this.connection.smembers(channelsKey));
    for (const channel of channels) {
      const removed = (await this.calls.now(() => PURGE.run(this.connection, [this.keys.presence(channel)], [instanceId]))) as Buffer[];
      const leaves = removed.flatMap((value) => memberOf(value.toString()) ?? []);
      if (leaves.length > 0) {
        this.announce(channel, [], leaves);
      }
    }
    await this.calls.now(() => this.connection.del(channelsKey));
    await this.calls.now(() => this.connection.zrem(this.keys.presenceInstances, instanceId));
  }
}

/** The member a hash value holds, `<instance id> <member as JSON>`; `undefined` for a value in another format. */
function memberOf(value: string): PresenceMember | undefined {
  const space = value.indexOf(' ');
  try {
    const member = JSON.parse(value.slice(space + 1)) as PresenceMember;
    return typeof member?.sessionId === 'string' ? member : undefined;
  } catch {
    return undefined;
  }
}
