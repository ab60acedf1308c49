import { DURATION_BUCKETS, type DurationHistogram } from '../utils/duration-histogram.js';

/** One value of a metric as prom-client's registry reads it from `get()`. */
interface ScrapedValue {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/**
 * A histogram whose buckets are counted elsewhere, in plain numbers (`DurationHistogram`),
 * and read only when the registry is scraped. prom-client's own `Histogram` hashes its
 * labels on every observation, several hundred nanoseconds, which a command's round
 * trip cannot afford; its registry reads any metric through `get()`, which this
 * provides with what a prom-client histogram gives: cumulative `_bucket` values with
 * `le`, then `_sum` and `_count`.
 */
export class ScrapedHistogram {
  readonly type = 'histogram';
  /** How the values of several processes combine in prom-client's `AggregatorRegistry`. */
  readonly aggregator = 'sum';

  /**
   * @param label the label that tells the histograms apart, if there are several.
   * @param read each histogram, with its label value when there is a label.
   */
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly label: string | undefined,
    private readonly read: () => Iterable<readonly [string, DurationHistogram]>,
  ) {}

  /** The metric's values now, as prom-client's registry reads them. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ScrapedValue[] }> {
    const values: ScrapedValue[] = [];
    for (const [labelValue, histogram] of this.read()) {
      const labels = this.label === undefined ? {} : { [this.label]: labelValue };
      let cumulative = 0;
      DURATION_BUCKETS.forEach((bound, bucket) => {
        cumulative += histogram.counts[bucket];
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: bound }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: histogram.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: histogram.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: histogram.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** What `registry.resetMetrics()` calls; the counts belong to the server, which keeps counting, so it changes nothing. */
  reset(): void {}
}
