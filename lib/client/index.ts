/**
 * The client of the command protocol, for browsers and Node: `nestjs-easy-ws/client`.
 *
 * @packageDocumentation
 *
 * Nothing here imports Nest or Node, and nothing outside this folder but the protocol
 * rules and error codes, which import nothing: a browser loads these files as they
 * are, served with `../protocol/` beside them.
 */
export { EasyWsClient } from './easy-ws-client.js';
export { type EasyWsClientEvents, type EasyWsClientState, type EasyWsNotice, EasyWsNoticeError } from './client-events.js';
export type { EasyWsClientOptions, ReconnectOptions } from './client-options.js';
export type { WebSocketCloseEvent, WebSocketConstructor, WebSocketLike, WebSocketMessageEvent } from './websocket-like.js';
export type { EasyWsErrorCode } from '../protocol/errors.js';
export {
  ACKNOWLEDGED_SUBPROTOCOL,
  type Acknowledgement,
  type AnswerDetails,
  LEGACY_SUBPROTOCOL,
  type NoticeSubject,
  parseTextFrame,
  type PresenceMember,
  type StreamPosition,
} from '../protocol/rules.js';
