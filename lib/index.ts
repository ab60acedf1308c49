/**
 * nestjs-easy-ws: command-based WebSockets for NestJS. Everything an application
 * uses is exported here; nothing else of the package is public.
 *
 * @packageDocumentation
 */

// The wire: frames, messages, notices, close codes, error codes.
export { CLOSE_CODES } from './protocol/close-codes.js';
export type { EasyWsErrorCode } from './protocol/errors.js';
export { encodeFrame, type ParsedFrame, parseFrame } from './protocol/frame-codec.js';
export { Message, type MessageData } from './protocol/message.js';
export { NOTICES } from './protocol/notices.js';
export {
  ACKNOWLEDGED_SUBPROTOCOL,
  LEGACY_SUBPROTOCOL,
  MAX_CHANNEL_BYTES,
  MAX_COMMAND_BYTES,
  type PresenceMember,
  type StreamPosition,
} from './protocol/rules.js';

// The endpoint: the adapter, sessions, and the options of the handshake and of sessions.
export { EasyWsAdapter, type EasyWsEndpoint } from './endpoint/easy-ws.adapter.js';
export { EasyWsSession } from './endpoint/easy-ws-session.js';
export type {
  Authenticator,
  AuthenticatorAnswer,
  EndpointOptions,
  OriginCheck,
  RateLimitOptions,
  SlowConsumerPolicy,
  TokenSource,
} from './endpoint/interfaces/endpoint-options.interface.js';

// Pushes: the service, the read-only registry, and the brokers between instances.
export type {
  Broker,
  HistoryEntry,
  HistoryPage,
  HistorySettings,
  HistoryStore,
  PresenceStore,
  PushOperation,
  PushSink,
} from './push/broker.interface.js';
export { LocalBroker, type LocalBrokerOptions } from './push/local-broker.js';
export { PushService } from './push/push.service.js';
export { RedisBroker } from './push/redis/redis-broker.js';
export type { RedisBrokerOptions } from './push/redis/redis-broker-options.js';
export { RedisUnavailableError } from './push/redis/redis-unavailable.error.js';
export type { LeaveReason } from './push/session-events.js';
export { type ChannelListeners, SessionRegistry } from './push/session-registry.js';

// Handlers: the decorators an application puts on its methods.
export { ChannelSnapshot } from './handlers/channel-snapshot.js';
export { ChannelParam } from './handlers/decorators/channel-param.decorator.js';
export { Command } from './handlers/decorators/command.decorator.js';
export { LeaveChannel } from './handlers/decorators/leave-channel.decorator.js';
export { ListenChannel } from './handlers/decorators/listen-channel.decorator.js';
export { OnClose, OnOpen } from './handlers/decorators/session-hooks.decorator.js';
export type { ChannelLeave, ChannelRequest, ListenChannelOptions } from './handlers/interfaces/handler-declaration.interface.js';
export type {
  ChannelDocumentation,
  DescribedFrame,
  FrameDeclaration,
  HandlerDocumentation,
  JsonSchema,
  PayloadType,
} from './handlers/interfaces/handler-documentation.interface.js';

// The AsyncAPI document of the endpoint.
export type {
  AsyncApiChannel,
  AsyncApiCloseCode,
  AsyncApiDocument,
  AsyncApiMessage,
  AsyncApiOperation,
  AsyncApiReference,
  AsyncApiServer,
} from './asyncapi/interfaces/asyncapi-document.interface.js';
export type { AsyncApiOptions } from './asyncapi/interfaces/asyncapi-options.interface.js';

// Metrics.
export type { EasyWsMetricsOptions, MetricsRegistry } from './metrics/interfaces/metrics-options.interface.js';

// The module.
export type { EasyWsAsyncOptions, EasyWsOptions } from './module/easy-ws-options.interface.js';
export { EasyWsModule } from './module/easy-ws.module.js';
export { createAsyncApiDocument } from './module/create-asyncapi-document.js';
