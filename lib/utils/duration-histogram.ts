/**
 * The upper bounds of the duration buckets, in seconds: from 100 µs, where a handler
 * that answers at once lands, to 10 s, where a stuck one does.
 */
export const DURATION_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Durations counted into buckets in plain numbers, for a histogram that is read when
 * scraped: recording one is a comparison per bucket and two additions, where a
 * metrics library would hash its labels on every observation.
 */
export class DurationHistogram {
  /** How many durations fell into each bucket (not cumulative); the last one counts those above every bound. */
  readonly counts = new Float64Array(DURATION_BUCKETS.length + 1);
  /** The sum of every duration recorded, in seconds. */
  sum = 0;
  /** How many durations were recorded. */
  count = 0;

  /** Records one duration, in seconds. */
  record(seconds: number): void {
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]) {
      bucket++;
    }
    this.counts[bucket]++;
    this.sum += seconds;
    this.count++;
  }
}
