/**
 * The backlog of one session: what decides, once `limit` bytes or more wait for the
 * client, whether it is reading or has stopped.
 *
 * A client that reads as fast as it can may still have a big reply in its buffer when
 * the next frame comes, so it is not judged at that instant: frames go on being
 * written while it catches up, for `grace` milliseconds and `limit` more bytes at most
 * (the first frame always, however big). A client whose buffer has not come back below
 * the limit by then is slow. The session ends the backlog at the first frame that
 * finds the buffer below the limit again: only writes fill it, so a client that read it
 * down in between is seen at the next write.
 *
 * So a session holds at most twice `limit`, plus the frame that crossed the limit and
 * the one that crossed the allowance. Times are in milliseconds of any monotonic clock.
 */
export class WriteBacklog {
  /** Bytes written since the backlog began. */
  private written = 0;

  constructor(
    private readonly limit: number,
    private readonly grace: number,
    /** When the backlog began: when a frame first found `limit` bytes waiting. */
    private readonly since: number,
  ) {}

  /** Whether one more frame of `frameBytes` may be written at `now`; false once the client counts as slow. */
  admits(frameBytes: number, now: number): boolean {
    if (now - this.since >= this.grace || this.written >= this.limit) {
      return false;
    }
    this.written += frameBytes;
    return true;
  }
}
