import { invalidOption, optionalWholeNumber, show, wholeNumber } from '../utils/option-checks.js';
import type {
  EndpointOptions,
  OriginCheck,
  RateLimitOptions,
  SlowConsumerPolicy,
  TokenSource,
} from './interfaces/endpoint-options.interface.js';

/** A rate limit with every default filled in. */
export type ResolvedRateLimit = Readonly<Required<RateLimitOptions>>;

/** Options that are off unless set. */
type OptionalLimits = 'authenticate' | 'allowedOrigins' | 'maxConnections' | 'maxConnectionsPerToken' | 'maxConnectionsPerUser' | 'rateLimit';

/** The endpoint options with every default filled in. */
export interface ResolvedEndpointOptions extends Readonly<Required<Omit<EndpointOptions, OptionalLimits>>> {
  readonly authenticate: EndpointOptions['authenticate'];
  readonly allowedOrigins: OriginCheck | undefined;
  readonly token: TokenSource;
  readonly maxConnections: number | undefined;
  readonly maxConnectionsPerToken: number | undefined;
  readonly maxConnectionsPerUser: number | undefined;
  readonly rateLimit: ResolvedRateLimit | undefined;
}

/** Injection token of the resolved endpoint options (the module's options are a superset). */
export const ENDPOINT_OPTIONS = Symbol('EASY_WS_ENDPOINT_OPTIONS');

/** The limits that apply to each session. */
export type SessionLimits = Pick<ResolvedEndpointOptions, 'maxBufferedBytes' | 'slowConsumer' | 'slowConsumerGrace' | 'rateLimit' | 'maxChannelsPerSession'>;

/** The defaults, as docs/options.md states them. */
export const ENDPOINT_DEFAULTS = {
  path: '/ws',
  token: { cookie: 'auth' },
  maxPayload: 64 * 1024,
  maxChannelsPerSession: 128,
  handshakeTimeout: 10_000,
  maxPendingHandshakes: 1000,
  heartbeatInterval: 30_000,
  maxBufferedBytes: 1024 * 1024,
  slowConsumer: 'close',
  slowConsumerGrace: 1000,
  shutdownTimeout: 10_000,
  refreshBefore: 30_000,
} as const satisfies EndpointOptions;

/** The defaults of `rateLimit`, once it is set. */
export const DEFAULT_RATE_LIMIT = { maxRejections: 20, rejectionWindow: 10_000 } as const satisfies Partial<RateLimitOptions>;

const OWNER = 'EasyWsModule';
const SLOW_CONSUMER_POLICIES: ReadonlySet<unknown> = new Set<SlowConsumerPolicy>(['close', 'drop']);

/** Whether `value` names a slow-consumer policy. */
export function isSlowConsumerPolicy(value: unknown): value is SlowConsumerPolicy {
  return SLOW_CONSUMER_POLICIES.has(value);
}

/**
 * Fills in the defaults and rejects options that cannot work, so that a mistake
 * stops start-up with a clear message instead of failing on the first client.
 * @throws TypeError (`EASY_WS_INVALID_OPTIONS`) naming the option.
 */
export function resolveEndpointOptions(options: EndpointOptions = {}): ResolvedEndpointOptions {
  const path = options.path ?? ENDPOINT_DEFAULTS.path;
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw invalidOption(OWNER, `"path" must start with "/", got ${JSON.stringify(path)}`);
  }
  if (options.authenticate !== undefined && typeof options.authenticate !== 'function') {
    throw invalidOption(OWNER, '"authenticate" must be a function');
  }
  const slowConsumer = options.slowConsumer ?? ENDPOINT_DEFAULTS.slowConsumer;
  if (!isSlowConsumerPolicy(slowConsumer)) {
    throw invalidOption(OWNER, `"slowConsumer" must be "close" or "drop", got ${show(slowConsumer)}`);
  }
  const count = (name: keyof EndpointOptions & keyof typeof ENDPOINT_DEFAULTS, unit: string, minimum: 0 | 1 = 1) =>
    wholeNumber(OWNER, name, (options[name] as number | undefined) ?? (ENDPOINT_DEFAULTS[name] as number), unit, minimum);
  return {
    path,
    authenticate: options.authenticate,
    token: options.token ?? ENDPOINT_DEFAULTS.token,
    allowedOrigins: originCheck(options.allowedOrigins),
    maxPayload: count('maxPayload', 'bytes'),
    maxChannelsPerSession: count('maxChannelsPerSession', 'channels'),
    maxConnections: optionalWholeNumber(OWNER, 'maxConnections', options.maxConnections, 'connections'),
    maxConnectionsPerToken: optionalWholeNumber(OWNER, 'maxConnectionsPerToken', options.maxConnectionsPerToken, 'connections'),
    maxConnectionsPerUser: optionalWholeNumber(OWNER, 'maxConnectionsPerUser', options.maxConnectionsPerUser, 'connections'),
    handshakeTimeout: count('handshakeTimeout', 'milliseconds'),
    maxPendingHandshakes: count('maxPendingHandshakes', 'handshakes'),
    heartbeatInterval: count('heartbeatInterval', 'milliseconds (0 turns the heartbeat off)', 0),
    maxBufferedBytes: count('maxBufferedBytes', 'bytes'),
    slowConsumer,
    slowConsumerGrace: count('slowConsumerGrace', 'milliseconds (0 judges at once)', 0),
    rateLimit: options.rateLimit === undefined ? undefined : resolveRateLimit(options.rateLimit),
    shutdownTimeout: count('shutdownTimeout', 'milliseconds'),
    refreshBefore: count('refreshBefore', 'milliseconds', 0),
  };
}

function resolveRateLimit(rateLimit: RateLimitOptions): ResolvedRateLimit {
  if (typeof rateLimit !== 'object' || rateLimit === null) {
    throw invalidOption(OWNER, '"rateLimit" must be an object such as { framesPerSecond: 20 }');
  }
  const { framesPerSecond } = rateLimit;
  if (typeof framesPerSecond !== 'number' || !Number.isFinite(framesPerSecond) || framesPerSecond <= 0) {
    throw invalidOption(OWNER, `"rateLimit.framesPerSecond" must be a positive number, got ${show(framesPerSecond)}`);
  }
  return {
    framesPerSecond,
    burst: wholeNumber(OWNER, 'rateLimit.burst', rateLimit.burst ?? Math.max(1, Math.ceil(framesPerSecond)), 'frames'),
    maxRejections: wholeNumber(OWNER, 'rateLimit.maxRejections', rateLimit.maxRejections ?? DEFAULT_RATE_LIMIT.maxRejections, 'frames'),
    rejectionWindow: wholeNumber(OWNER, 'rateLimit.rejectionWindow', rateLimit.rejectionWindow ?? DEFAULT_RATE_LIMIT.rejectionWindow, 'milliseconds'),
  };
}

function originCheck(allowed: EndpointOptions['allowedOrigins']): OriginCheck | undefined {
  if (allowed === undefined || typeof allowed === 'function') {
    return allowed;
  }
  if (!Array.isArray(allowed) || allowed.some((origin) => typeof origin !== 'string')) {
    throw invalidOption(OWNER, '"allowedOrigins" must be a list of origins or a function');
  }
  const origins = new Set(allowed);
  return (origin) => origins.has(origin);
}
