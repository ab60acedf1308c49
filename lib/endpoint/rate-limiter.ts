import type { ResolvedRateLimit } from './endpoint-options.js';

/** What the rate limit says about one frame. */
export type RateVerdict = 'pass' | 'limited' | 'abusive';

/**
 * The rate limit of one session: a token bucket, and a count of the frames it
 * refused within the current window, which tells a client that briefly sent too
 * much from one that ignores the notices. Times are in milliseconds of any
 * monotonic clock.
 */
export class RateLimiter {
  private tokens: number;
  private refilledAt: number;
  private rejections = 0;
  private windowStart = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly limit: ResolvedRateLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.refilledAt = now;
  }

  /** Takes a token for one frame that arrived at `now`. */
  take(now: number): RateVerdict {
    const refill = ((now - this.refilledAt) * this.limit.framesPerSecond) / 1000;
    this.tokens = Math.min(this.limit.burst, this.tokens + refill);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'pass';
    }
    if (now - this.windowStart > this.limit.rejectionWindow) {
      this.windowStart = now;
      this.rejections = 0;
    }
    this.rejections += 1;
    return this.rejections >= this.limit.maxRejections ? 'abusive' : 'limited';
  }
}
