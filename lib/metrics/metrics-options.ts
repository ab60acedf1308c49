import { invalidOption, show } from '../utils/option-checks.js';
import type { EasyWsMetricsOptions, MetricsRegistry } from './interfaces/metrics-options.interface.js';

/** The prefix of every metric's name, unless the options give another. */
export const DEFAULT_METRICS_PREFIX = 'easyws_';

/** A metric name's beginning as Prometheus allows it (the data model's `[a-zA-Z_:][a-zA-Z0-9_:]*`), or nothing. */
const PREFIX = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/** The metrics' options with their defaults: `registry` stays `undefined` for prom-client's default one, loaded with prom-client. */
export interface ResolvedMetricsOptions {
  readonly registry: MetricsRegistry | undefined;
  readonly prefix: string;
}

/**
 * Checks the `metrics` option: `true` for the defaults, an object for a registry or a
 * prefix of the application's own; `false` and `undefined` turn metrics off.
 * @throws TypeError (`EASY_WS_INVALID_OPTIONS`) naming what is wrong.
 */
export function resolveMetricsOptions(metrics: boolean | EasyWsMetricsOptions | undefined): ResolvedMetricsOptions | undefined {
  if (metrics === undefined || metrics === false) {
    return undefined;
  }
  if (metrics === true) {
    return { registry: undefined, prefix: DEFAULT_METRICS_PREFIX };
  }
  if (typeof metrics !== 'object' || metrics === null) {
    throw invalidOption('EasyWsModule', `"metrics" must be true, false or { registry, prefix }, got ${show(metrics)}`);
  }
  const { registry, prefix = DEFAULT_METRICS_PREFIX } = metrics;
  if (registry !== undefined && (typeof registry?.registerMetric !== 'function' || typeof registry.removeSingleMetric !== 'function')) {
    throw invalidOption('EasyWsModule', '"metrics.registry" must be a prom-client Registry, such as new Registry() from prom-client');
  }
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw invalidOption('EasyWsModule', `"metrics.prefix" must be letters, digits, "_" and ":", not beginning with a digit, got ${show(prefix)}`);
  }
  return { registry, prefix };
}

/** Injection token of what the metrics are told of the module's options. */
export const METRICS_OPTIONS = Symbol('EASY_WS_METRICS_OPTIONS');

/** The part of the module's options that the metrics read: `undefined` when metrics are off. */
export interface MetricsSettings {
  readonly metrics: ResolvedMetricsOptions | undefined;
}
