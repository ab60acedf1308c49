/**
 * The stable codes of the errors the library throws.
 *
 * An error keeps the class that fits it (`TypeError` for a value of the wrong kind,
 * `RangeError` for one out of range, `Error` otherwise), as Node's own errors do, and
 * carries one of these codes as `code`, so that an application can tell errors apart
 * without reading their messages. Like the rules beside it, this file imports nothing
 * and uses no Node API: the client shares it.
 */

/** Every code an error of the library can carry; docs/errors.md says what to do about each. */
export type EasyWsErrorCode =
  /** Module, broker or client options that cannot work. */
  | 'EASY_WS_INVALID_OPTIONS'
  /** A `@Command` or `@ListenChannel` declaration that cannot work, found at start-up. */
  | 'EASY_WS_INVALID_DECLARATION'
  /** A `Message` whose command is not valid or whose data JSON cannot represent. */
  | 'EASY_WS_INVALID_MESSAGE'
  /** A bad argument to `PushService` or to a client method: channel, session id, close code or reason. */
  | 'EASY_WS_INVALID_ARGUMENT'
  /** Redis did not take a push: it reached this instance only. */
  | 'EASY_WS_REDIS_UNAVAILABLE'
  /** Something was used before it started or after it closed. */
  | 'EASY_WS_NOT_STARTED'
  /** The client was closed with `close()`; it sends and listens no more. */
  | 'EASY_WS_CLIENT_CLOSED'
  /** The client is disconnected and its queue of frames to send is full. */
  | 'EASY_WS_QUEUE_FULL'
  /** The server refused a `listen` or `unlisten` with a notice. */
  | 'EASY_WS_NOTICE'
  /** The AsyncAPI document needs an optional package that is not installed. */
  | 'EASY_WS_MISSING_PACKAGE'
  /** The test client did not see what a test expected: a frame, no frame, or a close. */
  | 'EASY_WS_EXPECTATION_FAILED'
  /** The server refused the test client's connection with an HTTP status. */
  | 'EASY_WS_CONNECTION_REFUSED';

/** An error with its stable code. */
export type CodedError<E extends Error = Error> = E & { readonly code: EasyWsErrorCode };

/** Gives `error` its stable `code` and returns it, ready to throw. */
export function withCode<E extends Error>(error: E, code: EasyWsErrorCode): CodedError<E> {
  return Object.assign(error, { code });
}
