/** Metadata key of the `@Command`, `@ListenChannel`, `@OnOpen` and `@OnClose` declarations. */
export const EASY_WS_HANDLER_METADATA = 'easy-ws:handler';

/** Injection token of the resolved module options. */
export const EASY_WS_OPTIONS = Symbol('EASY_WS_OPTIONS');

export { ACKNOWLEDGED_SUBPROTOCOL, LEGACY_SUBPROTOCOL } from './client/protocol.js';
