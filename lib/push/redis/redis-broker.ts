import { randomBytes } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { withCode } from '../../protocol/errors.js';
import type { PresenceMember } from '../../protocol/rules.js';
import { describeError, summarizeError } from '../../utils/describe-error.js';
import { within } from '../../utils/within.js';
import type { Broker, HistoryStore, PresenceStore, PushOperation, PushSink } from '../broker.interface.js';
import { BoundedCalls } from './bounded-calls.js';
import {
  type CallLimits,
  checkRedisBrokerOptions,
  DEFAULT_REDIS_PREFIX,
  isSharded,
  type RedisBrokerOptions,
  resolveCallLimits,
  resolvePresenceTimeout,
} from './redis-broker-options.js';
import { RedisConnections } from './redis-connections.js';
import { RedisHistory } from './redis-history.js';
import { RedisKeys } from './redis-keys.js';
import { decodePayload, encodePayload, hasPosition, isFrom, ORIGIN_BYTES, positionedHeader } from './redis-payload.js';
import { RedisPresence } from './redis-presence.js';
import { RedisSubscriptions } from './redis-subscriptions.js';
import { RedisUnavailableError } from './redis-unavailable.error.js';

/** What a started broker works with. */
interface Running {
  readonly connections: RedisConnections;
  readonly subscriptions: RedisSubscriptions;
  /** The publisher's commands, bounded in time and number, and written per turn of the event loop. */
  readonly publishing: BoundedCalls;
  readonly history: RedisHistory;
  readonly presence: RedisPresence;
  readonly sink: PushSink;
}

/**
 * Carries pushes between the instances of an application through Redis pub/sub.
 *
 * Local first: an operation is carried out on this instance at once, then published
 * for the others; each instance ignores what it published itself, so nobody gets a
 * frame twice. An instance subscribes only to what it needs: one Redis channel per
 * app channel that has listeners here, one per session here, and one for broadcasts.
 *
 * A channel with history is the exception: its frames are kept in a Redis stream and
 * published with their position by one script, and every instance, this one included,
 * delivers them as Redis publishes them, so that all listeners see the stream's order.
 * Presence members are kept in Redis too, with a heartbeat per instance, so that the
 * members of an instance that died are removed within `presenceTimeout`.
 *
 * While Redis is down, the application keeps serving and pushing locally; pushes
 * that should have left the instance reject with `RedisUnavailableError`, the outage
 * is logged once, and once Redis is back every subscription is restored. Redis
 * pub/sub keeps nothing: what was published during an outage is not replayed, and a
 * frame pushed to a channel with history meanwhile reaches this instance's listeners
 * without a position and is not kept.
 *
 * A Redis that stops answering is treated the same once a command has waited
 * `commandTimeout`: every Redis command the broker awaits is bounded in time, and the
 * pushes waiting for Redis are bounded in number (`maxPendingCommands`). The pushes of
 * one turn of the event loop go to Redis in one write, in the order they were made.
 */
export class RedisBroker implements Broker {
  /** The history of channels that keep one: a Redis stream per channel. */
  readonly history: HistoryStore = {
    read: (channel, settings, query) => this.active().history.read(channel, settings, query),
  };

  /** The members of presence channels, in Redis, on every instance. */
  readonly presence: PresenceStore = {
    add: (channel, member) => this.active().presence.add(channel, member),
    remove: (channel, sessionId) => this.active().presence.remove(channel, sessionId),
    members: (channel) => this.active().presence.members(channel),
    count: (channel) => this.active().presence.count(channel),
  };

  private readonly origin = randomBytes(ORIGIN_BYTES);
  private readonly keys: RedisKeys;
  private readonly logger: LoggerService;
  private readonly limits: CallLimits;
  private readonly presenceTimeout: number;
  private running: Running | undefined;
  private started = false;
  private ignoredForeign = false;

  /** @throws TypeError (`EASY_WS_INVALID_OPTIONS`) when the options name neither or both of `url` and `client`, or are malformed. */
  constructor(private readonly options: RedisBrokerOptions) {
    checkRedisBrokerOptions(options);
    this.limits = resolveCallLimits(options);
    this.presenceTimeout = resolvePresenceTimeout(options);
    this.keys = new RedisKeys(options.prefix ?? DEFAULT_REDIS_PREFIX, isSharded(options));
    this.logger = options.logger ?? new Logger('RedisBroker');
  }

  /**
   * Connects and subscribes to broadcasts. Waits for the first connection attempt
   * only, and at most `commandTimeout` for each step: if Redis does not answer, the
   * application starts anyway, serves locally, logs the outage and keeps reconnecting.
   */
  async start(sink: PushSink): Promise<void> {
    if (this.started) {
      throw withCode(new Error('RedisBroker: already started; a broker serves one application, so give each its own'), 'EASY_WS_INVALID_OPTIONS');
    }
    this.started = true;
    const { keys, limits, logger } = this;
    const connections = new RedisConnections(this.options, logger, limits.timeout);
    const { publisher, subscriber, sharded, channelPrefix } = connections;
    const subscriptions = new RedisSubscriptions(connections, new BoundedCalls(subscriber, connections, limits), logger);
    const publishing = new BoundedCalls(publisher, connections, limits);
    const history = new RedisHistory(publishing, publisher, keys, (channel) => ({ name: channelPrefix + keys.channel(channel), sharded }));
    const presence = new RedisPresence(
      publishing,
      publisher,
      keys,
      { instanceId: this.origin.toString('hex'), timeout: this.presenceTimeout },
      (channel, joins, leaves) => this.announce(channel, joins, leaves),
      logger,
    );
    this.running = { connections, subscriptions, publishing, history, presence, sink };
    connections.on(subscriber, sharded ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, payload: Buffer) => this.receive(channel, payload));
    subscriptions.want(keys.broadcast, { kind: 'broadcast' });
    await connections.firstAttempt();
    await subscriptions.ready(keys.broadcast);
  }

  /**
   * Carries `operation` out here, then publishes it for the other instances (unless it
   * targets a session of this instance, which no other instance holds). A frame for a
   * channel with history is kept and published first, and reaches this instance's
   * listeners as it reaches the others'.
   *
   * @throws RedisUnavailableError when Redis could not take it (not connected, no answer
   *   within `commandTimeout`, `maxPendingCommands` waiting already); it was carried out
   *   here all the same (a frame for a channel with history without its position).
   */
  async publish(operation: PushOperation): Promise<void> {
    const running = this.active();
    const { connections, subscriptions, publishing, sink } = running;
    if (operation.kind === 'channel' && operation.history) {
      return this.publishKept(running, operation);
    }
    sink(operation);
    // A session is on one instance only: when it is on this one, nobody else need hear of it.
    if ('sessionId' in operation && subscriptions.has(this.keys.session(operation.sessionId))) {
      return operation.kind === 'subscribe' ? this.channelReady(operation.channel) : undefined;
    }
    const channel = this.redisChannel(operation);
    const payload = encodePayload(this.origin, operation);
    const { publisher, sharded } = connections;
    try {
      await publishing.batched(() => (sharded ? publisher.spublish(channel, payload) : publisher.publish(channel, payload)));
    } catch (error) {
      throw new RedisUnavailableError(operation.kind, error);
    }
  }

  /** Subscribes to the Redis channel of `channel` (batched per event-loop turn). */
  channelOpened(channel: string): void {
    this.running?.subscriptions.want(this.keys.channel(channel), { kind: 'channel', channel });
  }

  /** Unsubscribes from the Redis channel of `channel` (batched per event-loop turn). */
  channelClosed(channel: string): void {
    this.running?.subscriptions.unwant(this.keys.channel(channel));
  }

  /** Subscribes to the Redis channel of the session (batched per event-loop turn). */
  sessionOpened(sessionId: string): void {
    this.running?.subscriptions.want(this.keys.session(sessionId), { kind: 'session', sessionId });
  }

  /** Unsubscribes from the Redis channel of the session (batched per event-loop turn). */
  sessionClosed(sessionId: string): void {
    this.running?.subscriptions.unwant(this.keys.session(sessionId));
  }

  /** Subscribes to the Redis channel of the user (batched per event-loop turn). */
  userOpened(userId: string): void {
    this.running?.subscriptions.want(this.keys.user(userId), { kind: 'user', userId });
  }

  /** Unsubscribes from the Redis channel of the user (batched per event-loop turn). */
  userClosed(userId: string): void {
    this.running?.subscriptions.unwant(this.keys.user(userId));
  }

  /** Settles once Redis has confirmed the subscription for `channel` (at once while Redis is down). */
  channelReady(channel: string): Promise<void> {
    return this.running?.subscriptions.ready(this.keys.channel(channel)) ?? Promise.resolve();
  }

  /** Settles once Redis has confirmed the subscription for the session (at once while Redis is down). */
  sessionReady(sessionId: string): Promise<void> {
    return this.running?.subscriptions.ready(this.keys.session(sessionId)) ?? Promise.resolve();
  }

  /**
   * Stops delivering; removes this instance's presence members and lets the commands
   * sent so far be answered, each within `commandTimeout`; then closes the subscriber
   * connection (its subscriptions end with it) and the publisher if the broker made it.
   * A Redis that does not answer the QUIT within `commandTimeout` is dropped. A client
   * passed in stays open.
   */
  /** Whether both connections to Redis are up and answering; false before `start` and after `close`. */
  get connected(): boolean {
    const connections = this.running?.connections;
    return connections !== undefined && connections.canPublish && connections.canSubscribe;
  }

  /** Stops listening to Redis, takes this instance's members out of presence, lets the commands in flight finish (at most `commandTimeout`) and closes both connections. */
  async close(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    if (running) {
      running.subscriptions.stop();
      await running.presence.close();
      await within(running.publishing.drain(), this.limits.timeout);
      await running.connections.close();
    }
  }

  /** The parts of a started broker. @throws Error (`EASY_WS_NOT_STARTED`) before `start` and after `close`. */
  private active(): Running {
    const running = this.running;
    if (!running) {
      throw withCode(new Error('RedisBroker: not started, or closed; push once the application has initialised'), 'EASY_WS_NOT_STARTED');
    }
    return running;
  }

  /** Keeps a frame in its channel's history and publishes it with its position; delivered here from the echo. */
  private async publishKept(running: Running, operation: Extract<PushOperation, { kind: 'channel' }>): Promise<void> {
    const { channel, message, history } = operation;
    try {
      await running.history.append(channel, message, history as NonNullable<typeof history>, positionedHeader(this.origin, message));
    } catch (error) {
      running.sink({ kind: 'channel', channel, message });
      throw new RedisUnavailableError(operation.kind, error);
    }
  }

  /** Tells every instance of presence changes found by the heartbeat (an instance that died, or this one coming back). */
  private announce(channel: string, joins: PresenceMember[], leaves: PresenceMember[]): void {
    this.publish({ kind: 'presence', channel, joins, leaves }).catch((error: unknown) => {
      this.logger.warn(`The presence changes of ${channel} reached this instance only: ${summarizeError(error)}`);
    });
  }

  private redisChannel(operation: PushOperation): string {
    switch (operation.kind) {
      case 'channel':
      case 'presence':
        return this.keys.channel(operation.channel);
      case 'broadcast':
        return this.keys.broadcast;
      case 'user':
      case 'disconnectUser':
      case 'recheckUser':
        return this.keys.user(operation.userId);
      default:
        return this.keys.session(operation.sessionId);
    }
  }

  private receive(channel: Buffer, payload: Buffer): void {
    const running = this.running;
    // What this broker published was carried out here when it was, but for frames kept in history.
    if (!running || (isFrom(payload, this.origin) && !hasPosition(payload))) {
      return;
    }
    const route = running.subscriptions.routeOf(channel.toString().slice(running.connections.channelPrefix.length));
    if (!route) {
      return; // unsubscribed since it was published
    }
    const operation = decodePayload(payload, route);
    if (!operation) {
      // Once, not per message: a publisher of another format would otherwise flood the log.
      if (!this.ignoredForeign) {
        this.ignoredForeign = true;
        this.logger.warn(`Ignoring messages on ${channel.toString()} and other channels of this prefix that are not in this broker's format`);
      }
      return;
    }
    try {
      running.sink(operation);
    } catch (error) {
      // A throw here would unwind into ioredis' reply parser.
      this.logger.error(`Could not carry out a ${operation.kind} push from another instance`, describeError(error));
    }
  }
}
