import { LocalBroker } from './brokers/local-broker.js';
import type { Broker } from './interfaces/broker.interface.js';
import type { EasyWsOptions, TokenSource } from './interfaces/easy-ws-options.interface.js';

/** The module options with every default filled in. */
export interface ResolvedEasyWsOptions extends Required<Omit<EasyWsOptions, 'authenticate' | 'allowedOrigins'>> {
  readonly authenticate: EasyWsOptions['authenticate'];
  readonly allowedOrigins: ReadonlySet<string> | undefined;
  readonly broker: Broker;
  readonly token: TokenSource;
}

/** The defaults, as documented in the README. */
export const DEFAULT_OPTIONS = {
  path: '/ws',
  token: { cookie: 'auth' },
  maxPayload: 64 * 1024,
} as const satisfies EasyWsOptions;

/**
 * Fills in the defaults and rejects options that cannot work, so that a mistake
 * stops start-up with a clear message instead of failing on the first client.
 */
export function resolveOptions(options: EasyWsOptions = {}): ResolvedEasyWsOptions {
  const path = options.path ?? DEFAULT_OPTIONS.path;
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new TypeError(`EasyWsModule: "path" must start with "/", got ${JSON.stringify(path)}`);
  }
  const maxPayload = options.maxPayload ?? DEFAULT_OPTIONS.maxPayload;
  if (!Number.isInteger(maxPayload) || maxPayload < 1) {
    throw new TypeError(`EasyWsModule: "maxPayload" must be a positive whole number of bytes, got ${maxPayload}`);
  }
  if (options.authenticate !== undefined && typeof options.authenticate !== 'function') {
    throw new TypeError('EasyWsModule: "authenticate" must be a function');
  }
  return {
    path,
    maxPayload,
    authenticate: options.authenticate,
    token: options.token ?? DEFAULT_OPTIONS.token,
    allowedOrigins: options.allowedOrigins ? new Set(options.allowedOrigins) : undefined,
    broker: options.broker ?? new LocalBroker(),
  };
}
