import type { IncomingMessage } from 'node:http';
import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import type { Broker } from './broker.interface.js';

/**
 * Where the auth token of a connection comes from: a cookie, a header, a query
 * parameter, or a function of the upgrade request.
 */
export type TokenSource =
  | { cookie: string }
  | { header: string }
  | { query: string }
  | ((request: IncomingMessage) => string | undefined);

/**
 * Decides whether a connection may open. Return `false` (or nothing) to refuse it
 * with 403, `true` to accept it, or an object to accept it and start the session's
 * `data` bag with that object's properties (the user the token belongs to, say).
 */
export type Authenticator = (
  token: string,
  request: IncomingMessage,
) => boolean | Record<string, unknown> | null | undefined | Promise<boolean | Record<string, unknown> | null | undefined>;

/** Options of `EasyWsModule.forRoot()`. Every one has a default. */
export interface EasyWsOptions {
  /** The path of the WebSocket endpoint on the app's HTTP server. Default `'/ws'`. */
  path?: string;
  /**
   * Checks the auth token before the upgrade. Without it every connection is accepted
   * (the token, if any, is still read and kept on the session).
   */
  authenticate?: Authenticator;
  /** Where the token comes from. Default `{ cookie: 'auth' }`, as in the Go package. */
  token?: TokenSource;
  /**
   * Browser origins allowed to open a connection. A request with another `Origin`
   * header gets 403; a request without one (not a browser) is not affected.
   * Default: every origin.
   */
  allowedOrigins?: string[];
  /** Carries pushes between instances. Default: in-process, for a single instance. */
  broker?: Broker;
  /** The largest frame a client may send, in bytes; a larger one closes the connection with 1009. Default 64 KiB. */
  maxPayload?: number;
}

/** Options of `EasyWsModule.forRootAsync()`, for options that need other providers. */
export interface EasyWsAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Providers to hand to `useFactory`, in order. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Builds the options. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the injected providers' types are the caller's to state
  useFactory: (...args: any[]) => EasyWsOptions | Promise<EasyWsOptions>;
}
