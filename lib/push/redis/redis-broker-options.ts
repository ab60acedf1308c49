import type { LoggerService } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { invalidOption, wholeNumber } from '../../utils/option-checks.js';

/** Options of `RedisBroker`: give a `url` or a `client`. */
export interface RedisBrokerOptions {
  /**
   * A Redis URL (`redis://`, `rediss://`, with credentials and database if needed).
   * The broker then makes both of its connections itself and closes them on shutdown.
   */
  url?: string;
  /**
   * An ioredis client (`Redis` or `Cluster`) to publish with. The broker duplicates it
   * for its subscriber connection, which it owns; the client itself stays yours: the
   * broker never closes it.
   */
  client?: Redis | Cluster;
  /**
   * Starts the name of every Redis channel the broker uses. Instances with the same
   * prefix form one application; another prefix shares the Redis without crosstalk.
   * Default `'easy-ws:'`.
   */
  prefix?: string;
  /**
   * Whether to use sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, Redis 7 or later), which
   * keeps each message on the shard that owns its channel instead of copying it to
   * every node of a cluster. Default: `true` for a `Cluster`, `false` for a single server.
   */
  sharded?: boolean;
  /** Where the broker reports that Redis went away and came back. Default: Nest's `Logger`. */
  logger?: LoggerService;
  /**
   * How long, in milliseconds, the broker waits for Redis to answer any command it
   * awaits (a publish, a subscription, the first connection, the quit at shutdown).
   * A Redis that has not answered by then counts as unavailable, as if its connection
   * had closed: pushes waiting for it reject with `RedisUnavailableError`, listens are
   * acknowledged and sessions opened without waiting for it, and the connections the
   * broker made are dropped and reconnected. Default 2000.
   */
  commandTimeout?: number;
  /**
   * How many pushes may wait for Redis's answer at once, on this instance. One more
   * is carried out on this instance and rejects at once with `RedisUnavailableError`,
   * so that memory cannot grow while Redis is slow. Default 10 000.
   */
  maxPendingCommands?: number;
  /**
   * How long, in milliseconds, an instance may go without a heartbeat before the other
   * instances take it for dead: they remove its presence members and announce their
   * leaves. Instances that hold presence members beat every third of it. Default 30 000.
   */
  presenceTimeout?: number;
}

/** The default of `prefix`. */
export const DEFAULT_REDIS_PREFIX = 'easy-ws:';

/** The limits every Redis command the broker awaits is held to. */
export interface CallLimits {
  /** How long a command may wait for its answer, in milliseconds; then Redis counts as unavailable. */
  readonly timeout: number;
  /** How many batched commands may wait for their answers at once; more are refused at once. */
  readonly maxPending: number;
}

/** The defaults of the limits on Redis commands, as docs/scaling-out.md states them. */
export const REDIS_LIMIT_DEFAULTS = { commandTimeout: 2000, maxPendingCommands: 10_000, presenceTimeout: 30_000 } as const;

/**
 * The limits every Redis command of the broker is held to, defaults filled in.
 * @throws TypeError (`EASY_WS_INVALID_OPTIONS`) for a limit that is not a positive whole number.
 */
export function resolveCallLimits(options: RedisBrokerOptions): CallLimits {
  const owner = 'RedisBroker';
  return {
    timeout: wholeNumber(owner, 'commandTimeout', options.commandTimeout ?? REDIS_LIMIT_DEFAULTS.commandTimeout, 'milliseconds'),
    maxPending: wholeNumber(owner, 'maxPendingCommands', options.maxPendingCommands ?? REDIS_LIMIT_DEFAULTS.maxPendingCommands, 'commands'),
  };
}

/**
 * `presenceTimeout`, its default filled in.
 * @throws TypeError (`EASY_WS_INVALID_OPTIONS`) for one that is not a positive whole number.
 */
export function resolvePresenceTimeout(options: RedisBrokerOptions): number {
  return wholeNumber('RedisBroker', 'presenceTimeout', options.presenceTimeout ?? REDIS_LIMIT_DEFAULTS.presenceTimeout, 'milliseconds');
}

/** Whether pub/sub is sharded: as `sharded` says, else for a `Cluster`. */
export function isSharded(options: RedisBrokerOptions): boolean {
  return options.sharded ?? options.client instanceof Cluster;
}

/** @throws TypeError (`EASY_WS_INVALID_OPTIONS`) when the options name neither or both of `url` and `client`, or are malformed. */
export function checkRedisBrokerOptions(options: RedisBrokerOptions): void {
  const owner = 'RedisBroker';
  if ((options?.url === undefined) === (options?.client === undefined)) {
    throw invalidOption(owner, 'give either "url" or "client"');
  }
  if (options.url !== undefined && (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url))) {
    throw invalidOption(owner, `"url" must be a redis:// or rediss:// URL, got ${JSON.stringify(options.url)}`);
  }
  if (options.client !== undefined && !(options.client instanceof Redis) && !(options.client instanceof Cluster)) {
    throw invalidOption(owner, '"client" must be an ioredis Redis or Cluster');
  }
  if (options.prefix !== undefined && typeof options.prefix !== 'string') {
    throw invalidOption(owner, '"prefix" must be a string');
  }
}
