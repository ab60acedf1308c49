import type { Session } from '../endpoint/session.js';
import type { PushOperation } from './broker.interface.js';

/** The operations a listen in progress can be handed: frames of its channel and presence announcements. */
export type ChannelOperation = Extract<PushOperation, { kind: 'channel' | 'presence' }>;

/**
 * How many operations a listen in progress holds for its session. A listen takes a
 * round trip or two to the broker; a channel that pushes this much in that time is
 * cut off here, so that a listen costs bounded memory. What is cut is lost for that
 * session like a frame the `'drop'` policy drops: a client of acknowledged mode sees
 * the gap in the offsets of a channel with history and recovers it.
 */
export const MAX_HELD_OPERATIONS = 10_000;

/**
 * A listen in progress: while it runs (the guards, the listen method, reading what the
 * client missed), what is pushed to its channel waits here for its session, in order.
 */
export class PendingListen {
  private held: ChannelOperation[] = [];
  private cut = false;

  constructor(
    readonly session: Session,
    readonly channel: string,
  ) {}

  /** Whether operations were cut because too many arrived meanwhile. */
  get overflowed(): boolean {
    return this.cut;
  }

  /** Keeps `operation` for the session, unless too many wait already. */
  hold(operation: ChannelOperation): void {
    if (this.held.length < MAX_HELD_OPERATIONS) {
      this.held.push(operation);
    } else {
      this.cut = true;
    }
  }

  /** What waits, in the order it arrived; the buffer is empty afterwards. */
  take(): ChannelOperation[] {
    const held = this.held;
    this.held = [];
    return held;
  }
}
