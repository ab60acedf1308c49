import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import type { AsyncApiOptions } from '../asyncapi/interfaces/asyncapi-options.interface.js';
import type { EndpointOptions } from '../endpoint/interfaces/endpoint-options.interface.js';
import type { EasyWsMetricsOptions } from '../metrics/interfaces/metrics-options.interface.js';
import type { Broker } from '../push/broker.interface.js';

/** Options of `EasyWsModule.forRoot()`: the endpoint's, and how pushes reach other instances. Every one has a default. */
export interface EasyWsOptions extends EndpointOptions {
  /** Carries pushes between instances. Default: in-process, for a single instance. */
  broker?: Broker;
  /**
   * The AsyncAPI document of the endpoint: served as JSON at `asyncapi.path` when that
   * is set, and what it says beyond the decorators. Default: not served.
   */
  asyncapi?: AsyncApiOptions;
  /**
   * Whether a promise that a handler (a command, a channel's method or guard, an open or
   * close hook) starts and does not await, and that rejects, is caught: logged as an
   * error, and answered with `websocket: internal server error` for the session whose
   * handler started it, instead of ending the process as Node does with an unhandled
   * rejection. It installs a listener for `unhandledRejection` while the application
   * runs; a rejection outside any handler is left as it was. Recommended. Default `false`.
   */
  catchStrayRejections?: boolean;
  /**
   * Prometheus metrics with prom-client (installed by the application): `true` registers
   * them on prom-client's default registry, `{ registry, prefix }` on the application's
   * own or under another prefix (default `easyws_`). docs/observability.md lists them.
   * Default: off, which costs nothing and needs no prom-client.
   */
  metrics?: boolean | EasyWsMetricsOptions;
}

/** Options of `EasyWsModule.forRootAsync()`, for options that need other providers. */
export interface EasyWsAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Providers to hand to `useFactory`, in order. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Builds the options. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the injected providers' types are the caller's to state
  useFactory: (...args: any[]) => EasyWsOptions | Promise<EasyWsOptions>;
}
