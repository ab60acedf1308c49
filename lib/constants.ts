/** Metadata key of the `@Command`, `@ListenChannel`, `@OnOpen` and `@OnClose` declarations. */
export const EASY_WS_HANDLER_METADATA = 'easy-ws:handler';

/** Injection token of the resolved module options. */
export const EASY_WS_OPTIONS = Symbol('EASY_WS_OPTIONS');

export { ACKNOWLEDGED_SUBPROTOCOL, LEGACY_SUBPROTOCOL } from './client/protocol.js';
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
} as const;
