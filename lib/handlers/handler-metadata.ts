/** Metadata key of the `@Command`, `@ListenChannel`, `@OnOpen` and `@OnClose` declarations. */
export const EASY_WS_HANDLER_METADATA = 'easy-ws:handler';
