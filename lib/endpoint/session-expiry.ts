import type { Clock } from './clock.js';
import type { Session } from './session.js';

/** The longest delay a timer takes; a later deadline is reached in steps. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** The timers of one session: the warning ahead of its expiry, and the expiry itself. */
interface Deadlines {
  warning?: unknown;
  expiry: unknown;
}

/**
 * Keeps the deadlines of sessions whose token expires: `warn` runs `warnBefore`
 * milliseconds ahead (at once when less is left), `expire` at the expiry itself. A new
 * schedule for a session replaces the old; a closed session must be cancelled.
 */
export class SessionExpiry {
  private readonly deadlines = new Map<Session, Deadlines>();

  constructor(
    private readonly clock: Clock,
    private readonly warnBefore: number,
    private readonly warn: (session: Session) => void,
    private readonly expire: (session: Session) => void,
  ) {}

  /** Schedules the session's deadlines from its `expiresAt`; a session without one has none. */
  schedule(session: Session): void {
    this.cancel(session);
    const { expiresAt } = session;
    if (expiresAt === undefined) {
      return;
    }
    const left = expiresAt - this.clock.now();
    const deadlines: Deadlines = { expiry: this.at(left, () => this.reached(session, expiresAt)) };
    if (session.acknowledged) {
      deadlines.warning = this.at(Math.max(0, left - this.warnBefore), () => this.warn(session));
    }
    this.deadlines.set(session, deadlines);
  }

  cancel(session: Session): void {
    const deadlines = this.deadlines.get(session);
    if (deadlines) {
      this.clock.cancel(deadlines.expiry);
      this.clock.cancel(deadlines.warning);
      this.deadlines.delete(session);
    }
  }

  private at(delay: number, callback: () => void): unknown {
    return this.clock.schedule(callback, Math.min(Math.max(0, delay), MAX_TIMER_DELAY));
  }

  /** A timer of far in the future fires early, in steps; only the real expiry expires. */
  private reached(session: Session, expiresAt: number): void {
    if (this.clock.now() < expiresAt) {
      const deadlines = this.deadlines.get(session);
      if (deadlines) {
        deadlines.expiry = this.at(expiresAt - this.clock.now(), () => this.reached(session, expiresAt));
      }
      return;
    }
    this.deadlines.delete(session);
    this.expire(session);
  }
}
