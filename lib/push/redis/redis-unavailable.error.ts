import type { PushOperation } from '../broker.interface.js';

/**
 * The rejection of a push that Redis could not carry: it was carried out on this
 * instance, but other instances did not get it. Its `code` is `EASY_WS_REDIS_UNAVAILABLE`.
 */
export class RedisUnavailableError extends Error {
  /** The stable code of this error. */
  readonly code = 'EASY_WS_REDIS_UNAVAILABLE' as const;

  constructor(
    /** The kind of push that did not leave this instance. */
    readonly operation: PushOperation['kind'],
    cause?: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : 'not connected';
    super(`Redis is unavailable (${reason}), so this ${operation} push reached this instance only`, { cause });
    this.name = 'RedisUnavailableError';
  }
}
