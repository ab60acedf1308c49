/**
 * The client of the command protocol, for browsers and Node: `nestjs-easy-ws/client`.
 *
 * Nothing here imports Nest or Node, so a browser loads these files as they are.
 */
export {
  EasyWsClient,
  type EasyWsClientEvents,
  type EasyWsClientOptions,
  type EasyWsClientState,
  type EasyWsNotice,
  EasyWsNoticeError,
  type ReconnectOptions,
  type WebSocketCloseEvent,
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketMessageEvent,
} from './easy-ws-client.js';
export { ACKNOWLEDGED_SUBPROTOCOL, LEGACY_SUBPROTOCOL, parseTextFrame } from './protocol.js';
