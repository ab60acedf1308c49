import { DurationHistogram } from '../utils/duration-histogram.js';

/**
 * What pushes did on this instance, counted in plain numbers as it happens and read by
 * the metrics when they are scraped.
 */
export class PushStats {
  /** Frames of pushes handed to local sessions: one per listener of a channel push, per session of a user push. */
  deliveries = 0;
  /** Channel pushes kept in history. */
  historyPushes = 0;
  /** Sessions of this instance that joined a presence channel. */
  presenceJoins = 0;
  /** Sessions of this instance that left one. */
  presenceLeaves = 0;
  /** How long the broker took to take each push (for Redis, until Redis answered); kept only with metrics on. */
  readonly publishDurations: DurationHistogram | undefined;

  /** @param timed whether the durations of publishes are measured: only with metrics on, as that costs a clock reading. */
  constructor(timed: boolean) {
    this.publishDurations = timed ? new DurationHistogram() : undefined;
  }
}
