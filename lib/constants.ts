/** Metadata key of the `@Command`, `@ListenChannel`, `@OnOpen` and `@OnClose` declarations. */
export const EASY_WS_HANDLER_METADATA = 'easy-ws:handler';

/** Injection token of the resolved module options. */
export const EASY_WS_OPTIONS = Symbol('EASY_WS_OPTIONS');

/** The Go package's subprotocol: original behaviour, byte for byte. */
export const LEGACY_SUBPROTOCOL = 'cmd.fossores.de';

/** The subprotocol of acknowledged mode: every listen and unlisten answered, notices as JSON. */
export const ACKNOWLEDGED_SUBPROTOCOL = 'easy-ws.v1';
