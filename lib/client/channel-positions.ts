import type { StreamPosition } from '../protocol/rules.js';

/** What the client does with the frame that follows a position notice. */
export interface PositionVerdict {
  /** Whether the frame goes to the application. */
  readonly deliver: boolean;
  /** Set when the frame shows a gap: ask the server for what was missed after this position. */
  readonly recoverFrom?: StreamPosition;
  /** Set when the channel's history began anew (another epoch): what came before is lost. */
  readonly lost?: boolean;
}

const DELIVER: PositionVerdict = { deliver: true };
const SKIP: PositionVerdict = { deliver: false };

/**
 * Where the client stands in the history of each channel it tracks, and what to do
 * with each positioned frame: deliver it when it is the next one, drop it when it was
 * delivered already, and on a gap drop it and recover from the server, which sends
 * what was missed, in order. While a recovery runs, only the next frame in order is
 * delivered: the replay starts with it, and live frames that raced ahead are sent
 * again after it. Pure bookkeeping, so that it can be checked on its own.
 */
export class ChannelPositions {
  private readonly positions = new Map<string, StreamPosition>();
  private readonly recovering = new Set<string>();

  /** Where the client stands in `channel`'s history, if it knows. */
  get(channel: string): StreamPosition | undefined {
    return this.positions.get(channel);
  }

  /** Starts from `position` (one stored from an earlier page, say), unless a recovery is running. */
  set(channel: string, position: StreamPosition): void {
    this.positions.set(channel, position);
  }

  /**
   * The answer to a listen or recover: the frames the server sent again have been
   * delivered, and the stream goes on from `position`. When the client stands behind it
   * in the same epoch, some of those frames were dropped on the way (a slow reader under
   * the `'drop'` policy): recover again from where it stands. When the answer says the
   * history did not cover the gap (`recovered` false), the client starts over from there.
   * @returns where to recover from, when it must.
   */
  settle(channel: string, position: StreamPosition | undefined, recovered?: boolean): StreamPosition | undefined {
    this.recovering.delete(channel);
    const current = this.positions.get(channel);
    if (position && recovered !== false && current?.epoch === position.epoch && current.offset < position.offset) {
      this.recovering.add(channel);
      return current;
    }
    if (position) {
      this.positions.set(channel, position);
    }
    return undefined;
  }

  /** What to do with the frame that follows the notice of `position` in `channel`. */
  next(channel: string, position: StreamPosition): PositionVerdict {
    const current = this.positions.get(channel);
    if (current === undefined) {
      this.positions.set(channel, position);
      return DELIVER;
    }
    if (position.epoch !== current.epoch) {
      if (this.recovering.has(channel)) {
        return SKIP;
      }
      this.positions.set(channel, position);
      return { deliver: true, lost: true };
    }
    if (position.offset === current.offset + 1) {
      this.positions.set(channel, position);
      return DELIVER;
    }
    if (position.offset <= current.offset || this.recovering.has(channel)) {
      return SKIP;
    }
    this.recovering.add(channel);
    return { deliver: false, recoverFrom: current };
  }

  /**
   * The server dropped frames of `channel` for the client, the last at `position`:
   * returns where to recover from when the client stands behind it (and no recovery runs).
   */
  dropped(channel: string, position: StreamPosition): StreamPosition | undefined {
    const current = this.positions.get(channel);
    if (!current || current.epoch !== position.epoch || current.offset >= position.offset || this.recovering.has(channel)) {
      return undefined;
    }
    this.recovering.add(channel);
    return current;
  }

  /** Whether a recovery of `channel` runs. */
  isRecovering(channel: string): boolean {
    return this.recovering.has(channel);
  }

  /** Forgets `channel` (it is no longer listened to). */
  forget(channel: string): void {
    this.positions.delete(channel);
    this.recovering.delete(channel);
  }

  /** A connection closed: no recovery on it will be answered. */
  connectionLost(): void {
    this.recovering.clear();
  }
}
