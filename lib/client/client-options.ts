import { withCode } from '../protocol/errors.js';
import type { WebSocketConstructor } from './websocket-like.js';

/** How the client reconnects after a connection is lost or could not be opened. */
export interface ReconnectOptions {
  /** The shortest wait before an attempt, in milliseconds. Default 500. */
  readonly minDelay?: number;
  /** The longest wait before an attempt, in milliseconds. Default 30 000. */
  readonly maxDelay?: number;
  /** How much the longest possible wait grows with each failed attempt. Default 2. */
  readonly factor?: number;
  /** How many attempts in a row may fail before the client gives up. Default: no limit. */
  readonly maxAttempts?: number;
}

/** Options of `EasyWsClient`. */
export interface EasyWsClientOptions {
  /** The WebSocket constructor. Default: `globalThis.WebSocket`; on Node 20 pass the `ws` package's. */
  readonly WebSocket?: WebSocketConstructor;
  /** How to reconnect, or `false` to stay closed once a connection is lost. */
  readonly reconnect?: ReconnectOptions | false;
  /**
   * How many frames `send` keeps while the client is not connected, to send them
   * once it is. When the queue is full, `send` throws. Default 100; 0 makes every
   * send while disconnected throw.
   */
  readonly maxQueuedFrames?: number;
  /** A source of random numbers in [0, 1) for the jitter of reconnect delays. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Gets a new auth token when the server says the current one expires (acknowledged
   * mode): the client sends it over the socket and keeps its connection, channels and
   * frames. Without it, the server closes the session with 4001 when the token expires.
   */
  readonly refreshToken?: () => Promise<string>;
}

/** The client options with every default filled in. */
export interface ResolvedClientOptions {
  readonly WebSocket: WebSocketConstructor;
  readonly reconnect: Required<ReconnectOptions> | false;
  readonly maxQueuedFrames: number;
  readonly random: () => number;
  readonly refreshToken: (() => Promise<string>) | undefined;
}

const DEFAULT_RECONNECT = { minDelay: 500, maxDelay: 30_000, factor: 2, maxAttempts: Infinity } as const;
const DEFAULT_MAX_QUEUED_FRAMES = 100;

/**
 * Fills in the defaults and checks the options.
 * @throws TypeError without a WebSocket constructor, RangeError for an option out of range (both `EASY_WS_INVALID_OPTIONS`).
 */
export function resolveClientOptions(options: EasyWsClientOptions): ResolvedClientOptions {
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocket) {
    throw withCode(
      new TypeError('EasyWsClient: this platform has no WebSocket; pass one as options.WebSocket (the "ws" package on Node 20)'),
      'EASY_WS_INVALID_OPTIONS',
    );
  }
  const maxQueuedFrames = options.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES;
  requireRange('maxQueuedFrames', maxQueuedFrames, 0, true);
  return {
    WebSocket,
    reconnect: options.reconnect === false ? false : resolveReconnect(options.reconnect),
    maxQueuedFrames,
    random: options.random ?? Math.random,
    refreshToken: options.refreshToken,
  };
}

/**
 * The wait before reconnect attempt number `attempt` (from 1): "full jitter" above the
 * floor, so that clients that lost the same server spread out.
 */
export function reconnectDelay(reconnect: Required<ReconnectOptions>, attempt: number, random: () => number): number {
  const { minDelay, maxDelay, factor } = reconnect;
  const ceiling = Math.min(maxDelay, minDelay * factor ** attempt);
  return Math.round(minDelay + random() * (ceiling - minDelay));
}

function resolveReconnect(options: ReconnectOptions = {}): Required<ReconnectOptions> {
  const resolved = { ...DEFAULT_RECONNECT, ...options };
  requireRange('reconnect.minDelay', resolved.minDelay, 0, false);
  requireRange('reconnect.maxDelay', resolved.maxDelay, resolved.minDelay, false);
  requireRange('reconnect.factor', resolved.factor, 1, false);
  if (resolved.maxAttempts !== Infinity) {
    requireRange('reconnect.maxAttempts', resolved.maxAttempts, 0, true);
  }
  return resolved;
}

function requireRange(name: string, value: number, min: number, integer: boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw withCode(
      new RangeError(`EasyWsClient: ${name} must be ${integer ? 'an integer' : 'a number'} of at least ${min}, got ${String(value)}`),
      'EASY_WS_INVALID_OPTIONS',
    );
  }
}
