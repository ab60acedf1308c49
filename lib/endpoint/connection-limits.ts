/** How many connections each key (a token, a user) holds, against one limit. */
class KeyedLimit {
  private readonly held = new Map<string, number>();

  constructor(private readonly max: number | undefined) {}

  /** Whether one more connection of `key` fits; a connection without a key, or no limit, always does. */
  hasRoom(key: string | undefined): boolean {
    return this.max === undefined || key === undefined || (this.held.get(key) ?? 0) < this.max;
  }

  take(key: string | undefined): void {
    if (this.max !== undefined && key !== undefined) {
      this.held.set(key, (this.held.get(key) ?? 0) + 1);
    }
  }

  give(key: string | undefined): void {
    if (this.max === undefined || key === undefined) {
      return;
    }
    const left = (this.held.get(key) ?? 1) - 1;
    if (left === 0) {
      this.held.delete(key);
    } else {
      this.held.set(key, left);
    }
  }
}

/**
 * Counts the connections a server holds, in total, per auth token and per user,
 * against the configured limits. A place is taken just before the upgrade and given
 * back when the connection closes, so nothing of a closed connection stays counted.
 */
export class ConnectionLimits {
  private total = 0;
  private readonly perToken: KeyedLimit;
  private readonly perUser: KeyedLimit;

  constructor(
    private readonly maxConnections: number | undefined,
    maxConnectionsPerToken: number | undefined,
    maxConnectionsPerUser?: number,
  ) {
    this.perToken = new KeyedLimit(maxConnectionsPerToken);
    this.perUser = new KeyedLimit(maxConnectionsPerUser);
  }

  /**
   * Takes a place for a connection with `token` of `userId`. Returns the function that
   * gives it back (calling it again does nothing), or `undefined` when a limit is
   * reached. A connection without a token or a user counts only towards the total.
   */
  acquire(token: string | undefined, userId?: string): (() => void) | undefined {
    if ((this.maxConnections !== undefined && this.total >= this.maxConnections) || !this.perToken.hasRoom(token) || !this.perUser.hasRoom(userId)) {
      return undefined;
    }
    this.total += 1;
    this.perToken.take(token);
    this.perUser.take(userId);
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.total -= 1;
        this.perToken.give(token);
        this.perUser.give(userId);
      }
    };
  }
}
