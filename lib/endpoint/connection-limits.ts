/**
 * Counts the connections a server holds, in total and per auth token, against the
 * configured limits. A place is taken just before the upgrade and given back when
 * the connection closes, so nothing of a closed connection stays counted.
 */
export class ConnectionLimits {
  private total = 0;
  private readonly perToken = new Map<string, number>();

  constructor(
    private readonly maxConnections: number | undefined,
    private readonly maxConnectionsPerToken: number | undefined,
  ) {}

  /**
   * Takes a place for a connection with `token`. Returns the function that gives it
   * back (calling it again does nothing), or `undefined` when a limit is reached.
   * A connection without a token counts only towards the total.
   */
  acquire(token: string | undefined): (() => void) | undefined {
    if (this.maxConnections !== undefined && this.total >= this.maxConnections) {
      return undefined;
    }
    const key = this.maxConnectionsPerToken === undefined ? undefined : token;
    const held = key === undefined ? 0 : (this.perToken.get(key) ?? 0);
    if (key !== undefined && held >= (this.maxConnectionsPerToken as number)) {
      return undefined;
    }
    this.total += 1;
    if (key !== undefined) {
      this.perToken.set(key, held + 1);
    }
    let released = false;
    return () => {
      if (released) {
        return;
      }
      released = true;
      this.total -= 1;
      if (key !== undefined) {
        const left = (this.perToken.get(key) as number) - 1;
        if (left === 0) {
          this.perToken.delete(key);
        } else {
          this.perToken.set(key, left);
        }
      }
    };
  }
}
