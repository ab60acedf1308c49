/**
 * What the metrics need of a prom-client `Registry`: the application's own, or
 * prom-client's default `register`. Any prom-client `Registry` is one.
 */
export interface MetricsRegistry {
  /** Adds a metric; prom-client's throws when one of the same name is there already. */
  registerMetric(metric: object): void;
  /** Takes the metric of this name out again. */
  removeSingleMetric(name: string): void;
}

/** Options of `metrics`, for metrics on a registry of the application's own or under another prefix. */
export interface EasyWsMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's default registry (`register`). */
  registry?: MetricsRegistry;
  /**
   * What every metric's name begins with: letters, digits, `_` and `:`, not beginning
   * with a digit; may be empty. Default `easyws_`.
   */
  prefix?: string;
}
