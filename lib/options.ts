import { LocalBroker } from './brokers/local-broker.js';
import type { Broker } from './interfaces/broker.interface.js';
import type {
  EasyWsOptions,
  OriginCheck,
  RateLimitOptions,
  SlowConsumerPolicy,
  TokenSource,
} from './interfaces/easy-ws-options.interface.js';

/** A rate limit with every default filled in. */
export type ResolvedRateLimit = Readonly<Required<RateLimitOptions>>;

/** Options that are off unless set. */
type OptionalLimits = 'authenticate' | 'allowedOrigins' | 'maxConnections' | 'maxConnectionsPerToken' | 'rateLimit';

/** The module options with every default filled in. */
export interface ResolvedEasyWsOptions extends Required<Omit<EasyWsOptions, OptionalLimits>> {
  readonly authenticate: EasyWsOptions['authenticate'];
  readonly allowedOrigins: OriginCheck | undefined;
  readonly broker: Broker;
  readonly token: TokenSource;
  readonly maxConnections: number | undefined;
  readonly maxConnectionsPerToken: number | undefined;
  readonly rateLimit: ResolvedRateLimit | undefined;
}

/** The defaults, as documented in the README. */
export const DEFAULT_OPTIONS = {
  path: '/ws',
  token: { cookie: 'auth' },
  maxPayload: 64 * 1024,
  maxChannelsPerSession: 128,
  handshakeTimeout: 10_000,
  heartbeatInterval: 30_000,
  maxBufferedBytes: 1024 * 1024,
  slowConsumer: 'close',
  shutdownTimeout: 10_000,
} as const satisfies EasyWsOptions;

/** The defaults of `rateLimit`, once it is set. */
export const DEFAULT_RATE_LIMIT = { maxRejections: 20, rejectionWindow: 10_000 } as const satisfies Partial<RateLimitOptions>;

const SLOW_CONSUMER_POLICIES: ReadonlySet<unknown> = new Set<SlowConsumerPolicy>(['close', 'drop']);

/** Whether `value` names a slow-consumer policy. */
export function isSlowConsumerPolicy(value: unknown): value is SlowConsumerPolicy {
  return SLOW_CONSUMER_POLICIES.has(value);
}

/**
 * Fills in the defaults and rejects options that cannot work, so that a mistake
 * stops start-up with a clear message instead of failing on the first client.
 */
export function resolveOptions(options: EasyWsOptions = {}): ResolvedEasyWsOptions {
  const path = options.path ?? DEFAULT_OPTIONS.path;
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new TypeError(`EasyWsModule: "path" must start with "/", got ${JSON.stringify(path)}`);
  }
  if (options.authenticate !== undefined && typeof options.authenticate !== 'function') {
    throw new TypeError('EasyWsModule: "authenticate" must be a function');
  }
  const slowConsumer = options.slowConsumer ?? DEFAULT_OPTIONS.slowConsumer;
  if (!isSlowConsumerPolicy(slowConsumer)) {
    throw new TypeError(`EasyWsModule: "slowConsumer" must be "close" or "drop", got ${show(slowConsumer)}`);
  }
  return {
    path,
    authenticate: options.authenticate,
    token: options.token ?? DEFAULT_OPTIONS.token,
    allowedOrigins: originCheck(options.allowedOrigins),
    broker: options.broker ?? new LocalBroker(),
    maxPayload: wholeNumber('maxPayload', options.maxPayload ?? DEFAULT_OPTIONS.maxPayload, 'bytes'),
    maxChannelsPerSession: wholeNumber('maxChannelsPerSession', options.maxChannelsPerSession ?? DEFAULT_OPTIONS.maxChannelsPerSession, 'channels'),
    maxConnections: optionalWholeNumber('maxConnections', options.maxConnections, 'connections'),
    maxConnectionsPerToken: optionalWholeNumber('maxConnectionsPerToken', options.maxConnectionsPerToken, 'connections'),
    handshakeTimeout: wholeNumber('handshakeTimeout', options.handshakeTimeout ?? DEFAULT_OPTIONS.handshakeTimeout, 'milliseconds'),
    heartbeatInterval: wholeNumber(
      'heartbeatInterval',
      options.heartbeatInterval ?? DEFAULT_OPTIONS.heartbeatInterval,
      'milliseconds (0 turns the heartbeat off)',
      0,
    ),
    maxBufferedBytes: wholeNumber('maxBufferedBytes', options.maxBufferedBytes ?? DEFAULT_OPTIONS.maxBufferedBytes, 'bytes'),
    slowConsumer,
    rateLimit: options.rateLimit === undefined ? undefined : resolveRateLimit(options.rateLimit),
    shutdownTimeout: wholeNumber('shutdownTimeout', options.shutdownTimeout ?? DEFAULT_OPTIONS.shutdownTimeout, 'milliseconds'),
  };
}

function resolveRateLimit(rateLimit: RateLimitOptions): ResolvedRateLimit {
  if (typeof rateLimit !== 'object' || rateLimit === null) {
    throw new TypeError('EasyWsModule: "rateLimit" must be an object such as { framesPerSecond: 20 }');
  }
  const { framesPerSecond } = rateLimit;
  if (typeof framesPerSecond !== 'number' || !Number.isFinite(framesPerSecond) || framesPerSecond <= 0) {
    throw new TypeError(`EasyWsModule: "rateLimit.framesPerSecond" must be a positive number, got ${show(framesPerSecond)}`);
  }
  return {
    framesPerSecond,
    burst: wholeNumber('rateLimit.burst', rateLimit.burst ?? Math.max(1, Math.ceil(framesPerSecond)), 'frames'),
    maxRejections: wholeNumber('rateLimit.maxRejections', rateLimit.maxRejections ?? DEFAULT_RATE_LIMIT.maxRejections, 'frames'),
    rejectionWindow: wholeNumber('rateLimit.rejectionWindow', rateLimit.rejectionWindow ?? DEFAULT_RATE_LIMIT.rejectionWindow, 'milliseconds'),
  };
}

function optionalWholeNumber(name: string, value: number | undefined, unit: string): number | undefined {
  return value === undefined ? undefined : wholeNumber(name, value, unit);
}

function wholeNumber(name: string, value: number, unit: string, minimum: 0 | 1 = 1): number {
  if (!Number.isSafeInteger(value) || value < minimum) {
    const kind = minimum === 0 ? 'a whole number' : 'a positive whole number';
    throw new TypeError(`EasyWsModule: "${name}" must be ${kind} of ${unit}, got ${show(value)}`);
  }
  return value;
}

/** A value as an error message shows it: strings quoted, numbers (NaN too) as they print. */
function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

function originCheck(allowed: EasyWsOptions['allowedOrigins']): OriginCheck | undefined {
  if (allowed === undefined || typeof allowed === 'function') {
    return allowed;
  }
  if (!Array.isArray(allowed) || allowed.some((origin) => typeof origin !== 'string')) {
    throw new TypeError('EasyWsModule: "allowedOrigins" must be a list of origins or a function');
  }
  const origins = new Set(allowed);
  return (origin) => origins.has(origin);
}
