import { type ResolvedAsyncApiOptions, resolveAsyncApiOptions } from '../asyncapi/asyncapi-options.js';
import { ENDPOINT_DEFAULTS, type ResolvedEndpointOptions, resolveEndpointOptions } from '../endpoint/endpoint-options.js';
import { type ResolvedMetricsOptions, resolveMetricsOptions } from '../metrics/metrics-options.js';
import type { Broker } from '../push/broker.interface.js';
import { LocalBroker } from '../push/local-broker.js';
import { invalidOption, show } from '../utils/option-checks.js';
import type { EasyWsOptions } from './easy-ws-options.interface.js';

/** Injection token of the resolved module options. */
export const EASY_WS_OPTIONS = Symbol('EASY_WS_OPTIONS');

/** The module options with every default filled in. */
export interface ResolvedEasyWsOptions extends ResolvedEndpointOptions {
  readonly broker: Broker;
  /** `undefined` when the option is not set. */
  readonly asyncapi: ResolvedAsyncApiOptions | undefined;
  readonly catchStrayRejections: boolean;
  /** `undefined` when metrics are off. */
  readonly metrics: ResolvedMetricsOptions | undefined;
}

/** The defaults, as docs/options.md states them. */
export const DEFAULT_OPTIONS = { ...ENDPOINT_DEFAULTS, catchStrayRejections: false } as const;

/**
 * Fills in the defaults and rejects options that cannot work, so that a mistake
 * stops start-up with a clear message instead of failing on the first client.
 * @throws TypeError (`EASY_WS_INVALID_OPTIONS`) naming the option.
 */
export function resolveOptions(options: EasyWsOptions = {}): ResolvedEasyWsOptions {
  const { broker, asyncapi, catchStrayRejections = DEFAULT_OPTIONS.catchStrayRejections, metrics } = options;
  if (broker !== undefined && (typeof broker !== 'object' || broker === null || typeof broker.publish !== 'function')) {
    throw invalidOption('EasyWsModule', '"broker" must be a Broker, such as new RedisBroker({ url })');
  }
  if (typeof catchStrayRejections !== 'boolean') {
    throw invalidOption('EasyWsModule', `"catchStrayRejections" must be true or false, got ${show(catchStrayRejections)}`);
  }
  return {
    ...resolveEndpointOptions(options),
    broker: broker ?? new LocalBroker(),
    asyncapi: asyncapi === undefined ? undefined : resolveAsyncApiOptions(asyncapi),
    catchStrayRejections,
    metrics: resolveMetricsOptions(metrics),
  };
}
