import { cutUtf8 } from './frame-codec.js';

/** The close codes the server uses, and what each one means for the client. */
export const CLOSE_CODES = {
  /** The server is shutting down (or was not ready for the connection). */
  goingAway: 1001,
  /** The client broke a rule: it kept sending over the rate limit, or its open hook refused it. */
  policyViolation: 1008,
  /** Something failed on the server; details are in its log. */
  internalError: 1011,
  /** The client read too slowly: `maxBufferedBytes` were waiting for it. */
  slowConsumer: 4000,
  /** The session's token expired (or a refresh failed): reconnect with a new token. */
  tokenExpired: 4001,
} as const;

/** A close frame holds at most 125 bytes: the 2-byte code and the reason (RFC 6455, 5.5). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** The code of a close without an error. */
export const NORMAL_CLOSURE = 1000;

/**
 * Tells why a server cannot close a connection with `code` and `reason`, or returns
 * `undefined` when it can: ws would throw, perhaps on another instance, where the
 * caller would never see the error.
 */
export function closeProblem(code: number, reason: string | undefined): string | undefined {
  const sendable = (code >= 1000 && code <= 1014 && (code < 1004 || code > 1006)) || (code >= 3000 && code <= 4999);
  if (!Number.isInteger(code) || !sendable) {
    return `a close code is 1000 to 1014 but 1004 to 1006, or 3000 to 4999, got ${code}`;
  }
  if (reason !== undefined && (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES)) {
    return `a close reason is a string of at most ${MAX_CLOSE_REASON_BYTES} bytes`;
  }
  return undefined;
}

/** `reason`, cut to fit a close frame at a character boundary; ws throws on a longer one, and the close must happen. */
export function fitCloseReason(reason: string): string {
  return cutUtf8(reason, MAX_CLOSE_REASON_BYTES);
}
