import { randomBytes } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { withCode } from '../../protocol/errors.js';
import { describeError } from '../../utils/describe-error.js';
import type { Broker, PushOperation, PushSink } from '../broker.interface.js';
import { BoundedCalls } from './bounded-calls.js';
import { type CallLimits, checkRedisBrokerOptions, DEFAULT_REDIS_PREFIX, type RedisBrokerOptions, resolveCallLimits } from './redis-broker-options.js';
import { RedisConnections } from './redis-connections.js';
import { decodePayload, encodePayload, isFrom, ORIGIN_BYTES } from './redis-payload.js';
import { RedisSubscriptions } from './redis-subscriptions.js';
import { RedisUnavailableError } from './redis-unavailable.error.js';

/** What a started broker works with. */
interface Running {
  readonly connections: RedisConnections;
  readonly subscriptions: RedisSubscriptions;
  /** The publisher's commands, bounded in time and number, and written per turn of the event loop. */
  readonly publishing: BoundedCalls;
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
 * While Redis is down, the application keeps serving and pushing locally; pushes
 * that should have left the instance reject with `RedisUnavailableError`, the outage
 * is logged once, and once Redis is back every subscription is restored. Redis
 * pub/sub keeps nothing: what was published during an outage is not replayed.
 *
 * A Redis that stops answering is treated the same once a command has waited
 * `commandTimeout`: every Redis command the broker awaits is bounded in time, and the
 * pushes waiting for Redis are bounded in number (`maxPendingCommands`). The pushes of
 * one turn of the event loop go to Redis in one write, in the order they were made.
 */
export class RedisBroker implements Broker {
  private readonly origin = randomBytes(ORIGIN_BYTES);
  private readonly prefix: string;
  private readonly logger: LoggerService;
  private readonly broadcastChannel: string;
  private readonly limits: CallLimits;
  private running: Running | undefined;
  private started = false;
  private ignoredForeign = false;

  /** @throws TypeError (`EASY_WS_INVALID_OPTIONS`) when the options name neither or both of `url` and `client`, or are malformed. */
  constructor(private readonly options: RedisBrokerOptions) {
    checkRedisBrokerOptions(options);
    this.limits = resolveCallLimits(options);
    this.prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.logger = options.logger ?? new Logger('RedisBroker');
    this.broadcastChannel = `${this.prefix}broadcast`;
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
    const connections = new RedisConnections(this.options, this.logger, this.limits.timeout);
    const subscriptions = new RedisSubscriptions(connections, new BoundedCalls(connections.subscriber, connections, this.limits), this.logger);
    const publishing = new BoundedCalls(connections.publisher, connections, this.limits);
    this.running = { connections, subscriptions, publishing, sink };
    connections.on(connections.subscriber, connections.sharded ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, payload: Buffer) =>
      this.receive(channel, payload),
    );
    subscriptions.want(this.broadcastChannel, { kind: 'broadcast' });
    await connections.firstAttempt();
    await subscriptions.ready(this.broadcastChannel);
  }

  /**
   * Carries `operation` out here, then publishes it for the other instances (unless it
   * targets a session of this instance, which no other instance holds).
   *
   * @throws RedisUnavailableError when Redis could not take it (not connected, no answer
   *   within `commandTimeout`, `maxPendingCommands` waiting already); it was carried out here all the same.
   */
  async publish(operation: PushOperation): Promise<void> {
    const running = this.running;
    if (!running) {
      throw withCode(new Error('RedisBroker: not started, or closed'), 'EASY_WS_NOT_STARTED');
    }
    const { connections, subscriptions, publishing, sink } = running;
    sink(operation);
    // A session is on one instance only: when it is on this one, nobody else need hear of it.
    if ('sessionId' in operation && subscriptions.has(this.sessionChannel(operation.sessionId))) {
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
    this.running?.subscriptions.want(this.channelRoute(channel), { kind: 'channel', channel });
  }

  /** Unsubscribes from the Redis channel of `channel` (batched per event-loop turn). */
  channelClosed(channel: string): void {
    this.running?.subscriptions.unwant(this.channelRoute(channel));
  }

  /** Subscribes to the Redis channel of the session (batched per event-loop turn). */
  sessionOpened(sessionId: string): void {
    this.running?.subscriptions.want(this.sessionChannel(sessionId), { kind: 'session', sessionId });
  }

  /** Unsubscribes from the Redis channel of the session (batched per event-loop turn). */
  sessionClosed(sessionId: string): void {
    this.running?.subscriptions.unwant(this.sessionChannel(sessionId));
  }

  /** Subscribes to the Redis channel of the user (batched per event-loop turn). */
  userOpened(userId: string): void {
    this.running?.subscriptions.want(this.userChannel(userId), { kind: 'user', userId });
  }

  /** Unsubscribes from the Redis channel of the user (batched per event-loop turn). */
  userClosed(userId: string): void {
    this.running?.subscriptions.unwant(this.userChannel(userId));
  }

  /** Settles once Redis has confirmed the subscription for `channel` (at once while Redis is down). */
  channelReady(channel: string): Promise<void> {
    return this.running?.subscriptions.ready(this.channelRoute(channel)) ?? Promise.resolve();
  }

  /** Settles once Redis has confirmed the subscription for the session (at once while Redis is down). */
  sessionReady(sessionId: string): Promise<void> {
    return this.running?.subscriptions.ready(this.sessionChannel(sessionId)) ?? Promise.resolve();
  }

  /**
   * Stops delivering, and closes the subscriber connection (its subscriptions end with
   * it) and the publisher if the broker made it; a Redis that does not answer the QUIT
   * within `commandTimeout` is dropped. A client passed in stays open.
   */
  async close(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    if (running) {
      running.subscriptions.stop();
      await running.connections.close();
    }
  }

  private appChannel(channel: string): string {
    return `${this.prefix}c:${channel}`;
  }

  /**
   * The Redis channel of an app channel as Redis sends it back: a name with a lone
   * surrogate does not survive UTF-8, so routes are keyed by what does.
   */
  private channelRoute(channel: string): string {
    return Buffer.from(this.appChannel(channel)).toString();
  }

  private sessionChannel(sessionId: string): string {
    return `${this.prefix}s:${sessionId}`;
  }

  private userChannel(userId: string): string {
    return Buffer.from(`${this.prefix}u:${userId}`).toString();
  }

  private redisChannel(operation: PushOperation): string {
    switch (operation.kind) {
      case 'channel':
      case 'presence':
        return this.appChannel(operation.channel);
      case 'broadcast':
        return this.broadcastChannel;
      case 'user':
      case 'disconnectUser':
      case 'recheckUser':
        return this.userChannel(operation.userId);
      default:
        return this.sessionChannel(operation.sessionId);
    }
  }

  private receive(channel: Buffer, payload: Buffer): void {
    const running = this.running;
    if (!running || isFrom(payload, this.origin)) {
      return; // closed, or carried out here already, when it was published
    }
    const route = running.subscriptions.routeOf(channel.toString().slice(running.connections.keyPrefixLength));
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
