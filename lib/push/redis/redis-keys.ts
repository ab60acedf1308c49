/**
 * The names a `RedisBroker` gives its Redis channels and keys, all starting with its
 * prefix.
 *
 * The keys of one app channel (its history stream, the position of that history, its
 * presence members) share the hash tag `{#<channel>}`, so that on a Redis Cluster they
 * live in one slot and one script can change them together. The `#` keeps the tag from
 * being empty for a channel whose name begins with `}`, and the tag comes right after
 * the prefix, so that whatever braces the prefix or the channel hold, every key of the
 * channel hashes the same. With sharded pub/sub the channel's Redis channel carries the
 * same tag, since the script that appends to the history publishes the frame in the
 * same step; without, it keeps the name instances of 0.1.0 use.
 */
export class RedisKeys {
  /** The Redis channel of broadcasts. */
  readonly broadcast: string;
  /** The sorted set of the instances that keep presence members, scored by their last heartbeat. */
  readonly presenceInstances: string;

  constructor(
    private readonly prefix: string,
    private readonly sharded: boolean,
  ) {
    this.broadcast = `${prefix}broadcast`;
    this.presenceInstances = `${prefix}presence:instances`;
  }

  /**
   * The Redis channel of an app channel, as Redis sends it back: a name with a lone
   * surrogate does not survive UTF-8, so routes are keyed by what does.
   */
  channel(channel: string): string {
    return utf8(this.sharded ? `${this.tagged(channel)}c` : `${this.prefix}c:${channel}`);
  }

  /** The Redis channel of a session. */
  session(sessionId: string): string {
    return `${this.prefix}s:${sessionId}`;
  }

  /** The Redis channel of a user, as Redis sends it back. */
  user(userId: string): string {
    return utf8(`${this.prefix}u:${userId}`);
  }

  /** The stream of a channel's history. */
  history(channel: string): string {
    return `${this.tagged(channel)}h`;
  }

  /** The hash of where a channel's history stands: its epoch and latest offset. */
  historyPosition(channel: string): string {
    return `${this.tagged(channel)}m`;
  }

  /** The hash of a channel's presence members, by session id. */
  presence(channel: string): string {
    return `${this.tagged(channel)}p`;
  }

  /** The set of the channels in which an instance has presence members. */
  instanceChannels(instanceId: string): string {
    return `${this.prefix}presence:i:${instanceId}`;
  }

  private tagged(channel: string): string {
    return `${this.prefix}{#${channel}}:`;
  }
}

function utf8(name: string): string {
  return Buffer.from(name).toString();
}
