export { LocalBroker } from './brokers/local-broker.js';
export { RedisBroker, type RedisBrokerOptions, RedisUnavailableError } from './brokers/redis-broker.js';
export { NOTICES } from './command-router.js';
export { ACKNOWLEDGED_SUBPROTOCOL, CLOSE_CODES, LEGACY_SUBPROTOCOL } from './constants.js';
export { ChannelParam } from './decorators/channel-param.decorator.js';
export { Command, ListenChannel, OnClose, OnOpen } from './decorators/handler.decorators.js';
export { EasyWsAdapter, type EasyWsEndpoint } from './easy-ws.adapter.js';
export { EasyWsModule } from './easy-ws.module.js';
export { EasyWsSession } from './easy-ws-session.js';
export { encodeFrame, MAX_CHANNEL_BYTES, MAX_COMMAND_BYTES, parseFrame, type ParsedFrame } from './frame-codec.js';
export type { Broker, PushOperation, PushSink } from './interfaces/broker.interface.js';
export type {
  Authenticator,
  EasyWsAsyncOptions,
  EasyWsOptions,
  OriginCheck,
  RateLimitOptions,
  SlowConsumerPolicy,
  TokenSource,
} from './interfaces/easy-ws-options.interface.js';
export type { ChannelRequest, ListenChannelOptions } from './interfaces/handler-declaration.interface.js';
export { Message, type MessageData } from './message.js';
export { PushService } from './push.service.js';
export { SessionRegistry } from './session-registry.js';
